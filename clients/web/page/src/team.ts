// The settings page's "Your status" and "Team" sections: the user's own status (available,
// away, do not disturb for an hour, until tomorrow 08:00 or until turned off, with a note), and
// the org's people with their live state, filterable by group, kept current by `team.presence`
// (nothing polls).

import type { Availability, PersonPresence, SoftphonePresence, TeamView } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { $, el, keyedRows } from './dom.js';

const EFFECTIVE_TEXT: Record<PersonPresence['effective'], string> = {
  available: 'Available',
  away: 'Away',
  dnd: 'Do not disturb',
  onCall: 'On a call',
  offline: 'Offline',
};

/** When "do not disturb" of the picker ends (epoch seconds), or `null` until turned off. */
function until(choice: string, now: Date): number | null {
  switch (choice) {
    case 'hour':
      return Math.floor(now.getTime() / 1000) + 3600;
    case 'tomorrow': {
      const tomorrow = new Date(now);
      tomorrow.setDate(now.getDate() + 1);
      tomorrow.setHours(8, 0, 0, 0);
      return Math.floor(tomorrow.getTime() / 1000);
    }
    default:
      return null;
  }
}

export class TeamSection {
  private view: TeamView | null = null;
  private group = '';
  /** Names of the people seen in the team view, by email: how the call history names them. */
  private readonly names = new Map<string, string>();

  constructor(private readonly presence: SoftphonePresence) {
    $('status-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.setStatus();
    });
    $<HTMLSelectElement>('team-group').addEventListener('change', (event) => {
      this.group = (event.target as HTMLSelectElement).value;
      void this.reload();
    });
    presence.on('presence.status', () => void this.loadOwn());
  }

  async reload(): Promise<void> {
    this.view?.close();
    const view = this.presence.team.watch(this.group ? { group: this.group } : {});
    this.view = view;
    view.on('change', (people) => {
      if (this.view === view) this.render(people);
    });
    try {
      await view.load();
      $('team-error').hidden = true;
    } catch (error) {
      const message = $('team-error');
      message.textContent = `Cannot load your team: ${(error as Error).message}`;
      message.hidden = false;
    }
    await this.loadOwn();
  }

  clear(): void {
    this.view?.close();
    this.view = null;
    $('team-rows').replaceChildren();
  }

  /** A colleague's name, once the team view has shown them. */
  name(email: string): string | undefined {
    return this.names.get(email);
  }

  /** The groups the filter offers (the user's org's, from their numbers). */
  groups(groups: { id: string; name: string }[]): void {
    const select = $<HTMLSelectElement>('team-group');
    const current = select.value;
    select.replaceChildren(el('option', undefined, 'Everyone'));
    (select.firstChild as HTMLOptionElement).value = '';
    for (const group of groups) {
      const option = el('option', undefined, group.name);
      option.value = group.id;
      select.append(option);
    }
    select.value = groups.some((g) => g.id === current) ? current : '';
  }

  private async loadOwn(): Promise<void> {
    try {
      this.showOwn(await this.presence.status.get());
    } catch (error) {
      log(`Cannot load your status: ${(error as Error).message}`);
    }
  }

  private showOwn(me: PersonPresence): void {
    $('own-status').textContent =
      EFFECTIVE_TEXT[me.status] + (me.until ? ` until ${new Date(me.until * 1000).toLocaleString()}` : '') + (me.note ? ` · ${me.note}` : '');
    $('own-status').dataset.status = me.status;
  }

  private async setStatus(): Promise<void> {
    const status = $<HTMLSelectElement>('status-select').value as Availability;
    const duration = $<HTMLSelectElement>('status-until').value;
    const note = $<HTMLInputElement>('status-note').value;
    const error = $('status-error');
    try {
      const me = await this.presence.status.set({
        status,
        until: status === 'available' ? null : until(duration, new Date()),
        note: note.trim() || null,
      });
      error.hidden = true;
      this.showOwn(me);
      log(`Your status: ${EFFECTIVE_TEXT[me.status]}.`);
    } catch (cause) {
      error.textContent = `Cannot set your status: ${(cause as Error).message}`;
      error.hidden = false;
    }
  }

  private render(people: PersonPresence[]): void {
    for (const person of people) if (person.name) this.names.set(person.email, person.name);
    const list = $('team-rows');
    keyedRows(
      list,
      'email',
      people,
      (person) => person.email,
      () => {
        const row = el('li', 'person');
        row.append(el('span', 'person-name'), el('span', 'badge person-state'), el('span', 'muted person-note'));
        return row;
      },
      (row, person) => {
        const part = (name: string): HTMLElement => row.querySelector<HTMLElement>(`.person-${name}`) ?? row;
        part('name').textContent = person.name ?? person.email;
        part('state').textContent = EFFECTIVE_TEXT[person.effective];
        part('state').dataset.effective = person.effective;
        row.dataset.effective = person.effective;
        part('note').textContent = person.note ?? '';
      },
    );
    $('team-empty').hidden = people.length > 0;
  }
}
