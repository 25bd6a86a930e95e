// The admin console's "Groups" section: the org's forwarding groups; for one, its members in
// ringing order (add, remove, move up and down), name, ringing (strategy, timeouts, batch size,
// skipping busy members) and fallback; new groups and deleting one (refused with 409 while a
// number rings it).

import { $, el, keyedRows } from '../dom.js';
import type { AdminApi } from './api.js';
import type { DirectoryState } from './directory.js';
import { RecordEditor } from './editor.js';
import { STRATEGIES, groupBody, groupForm, moveMember } from './model.js';
import type { FallbackChoice, FallbackKind, Group, GroupForm, Strategy } from './model.js';

const STRATEGY_TEXT: Record<Strategy, string> = {
  simultaneous: 'all at once',
  sequential: 'one after another',
  roundRobin: 'in turn',
  longestIdle: 'longest idle first',
};

const label = (group: Group | null, id: string): string => group?.name || id;

export class GroupsSection {
  private readonly editor: RecordEditor<'groups'>;
  /** The members as edited, in ringing order (the list shows them; saved with the rest). */
  private members: string[] = [];

  constructor(
    private readonly directory: DirectoryState,
    api: AdminApi,
    changed: () => Promise<void>,
    signedOut: () => void,
  ) {
    this.editor = new RecordEditor({
      kind: 'groups',
      api,
      directory,
      form: $<HTMLFormElement>('group-editor'),
      alert: $('group-error'),
      status: $('groups-status'),
      name: label,
      show: (group) => this.show(group),
      changed,
      signedOut,
    });
    this.editor.bindButtons({ add: 'group-add', close: 'group-close', remove: 'group-delete' });
    $('group-add-member-button').addEventListener('click', () => this.addMember());
    $('group-fallback').addEventListener('change', () => this.showFallbackFields());
    $<HTMLFormElement>('group-editor').addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.members.length === 0) {
        // The server would refuse it too; said here, next to the list, before a round trip.
        $('group-members-empty').hidden = false;
        $('group-add-member').focus();
        return;
      }
      const form = this.read();
      void this.editor.save(this.editor.key ?? form.id.trim(), groupBody(this.editor.record, form));
    });
    directory.onChange(() => {
      this.render();
      if (this.editor.isOpen) this.renderMembers();
    });
  }

  private render(): void {
    const groups = this.directory.groups();
    keyedRows(
      $('group-rows'),
      'group-id',
      groups,
      (group) => group.id,
      () => {
        const row = el('li', 'record');
        const edit = el('button', 'record-edit', 'Edit');
        edit.type = 'button';
        edit.addEventListener('click', () => void this.editor.open(row.dataset.groupId ?? ''));
        row.append(el('span', 'record-name'), el('span', 'record-detail muted'), edit);
        return row;
      },
      (row, group) => {
        const form = groupForm(group);
        const people = form.members.map((email) => this.directory.userName(email));
        row.querySelector('.record-name')!.textContent = group.name;
        row.querySelector('.record-detail')!.textContent =
          `${people.join(', ')} · rings ${STRATEGY_TEXT[form.strategy]} for at most ${form.ringTimeoutSeconds} s`;
        row.querySelector('.record-edit')!.setAttribute('aria-label', `Edit the group ${group.name}`);
      },
    );
    $('groups-empty').hidden = groups.length > 0;
  }

  private show(group: Group | null): void {
    const form = groupForm(group);
    $('group-editor-title').textContent = group ? `Edit ${group.name}` : 'New group';
    const id = $<HTMLInputElement>('group-id');
    id.value = form.id;
    // The id is the record's key (and what numbers name): a new one is another group.
    id.readOnly = group !== null;
    $<HTMLInputElement>('group-name').value = form.name;
    $<HTMLSelectElement>('group-strategy').value = form.strategy;
    $<HTMLInputElement>('group-ring-timeout').valueAsNumber = form.ringTimeoutSeconds;
    $<HTMLInputElement>('group-member-ring').valueAsNumber = form.memberRingSeconds;
    $<HTMLInputElement>('group-batch').valueAsNumber = form.batchSize;
    $<HTMLInputElement>('group-skip-busy').checked = form.skipBusyMembers;
    // "Keep as it is" only for a fallback the console does not edit, named by its type.
    const keep = $<HTMLOptionElement>('group-fallback-keep');
    keep.hidden = form.fallback.kind !== 'keep';
    keep.disabled = form.fallback.kind !== 'keep';
    keep.textContent = group?.fallback ? `Keep as it is (${group.fallback.type})` : 'Keep as it is';
    $<HTMLSelectElement>('group-fallback').value = form.fallback.kind;
    $<HTMLInputElement>('group-greeting').value = form.fallback.kind === 'voicemail' ? form.fallback.greeting : '';
    $<HTMLInputElement>('group-message').value = form.fallback.kind === 'hangup' ? form.fallback.message : '';
    this.showFallbackFields();
    $('group-delete').hidden = group === null;
    this.members = form.members;
    this.renderMembers();
  }

  private showFallbackFields(): void {
    const kind = $<HTMLSelectElement>('group-fallback').value;
    $('group-greeting-field').hidden = kind !== 'voicemail';
    $('group-message-field').hidden = kind !== 'hangup';
  }

  /** The form as the admin left it. */
  private read(): GroupForm {
    const kind = $<HTMLSelectElement>('group-fallback').value as FallbackKind;
    const fallback: FallbackChoice =
      kind === 'voicemail'
        ? { kind, greeting: $<HTMLInputElement>('group-greeting').value }
        : kind === 'hangup'
          ? { kind, message: $<HTMLInputElement>('group-message').value }
          : { kind };
    const strategy = $<HTMLSelectElement>('group-strategy').value;
    return {
      id: $<HTMLInputElement>('group-id').value,
      name: $<HTMLInputElement>('group-name').value,
      members: [...this.members],
      ringTimeoutSeconds: $<HTMLInputElement>('group-ring-timeout').valueAsNumber,
      skipBusyMembers: $<HTMLInputElement>('group-skip-busy').checked,
      strategy: STRATEGIES.find((s) => s === strategy) ?? 'simultaneous',
      memberRingSeconds: $<HTMLInputElement>('group-member-ring').valueAsNumber,
      batchSize: $<HTMLInputElement>('group-batch').valueAsNumber,
      fallback,
    };
  }

  // ── members ───────────────────────────────────────────────────────────────

  private addMember(): void {
    const select = $<HTMLSelectElement>('group-add-member');
    if (!select.value) return;
    this.members = [...this.members, select.value];
    this.renderMembers();
    select.focus();
  }

  private renderMembers(): void {
    // A row that moves is taken out of the page and put back, which drops the keyboard focus:
    // put it back on the same button (or its neighbour, when that one is now disabled).
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const list = $('group-members');
    keyedRows(
      list,
      'email',
      this.members,
      (email) => email,
      () => {
        const row = el('li', 'member');
        const button = (action: string, text: string, onClick: (email: string) => void): HTMLButtonElement => {
          const b = el('button', `member-${action}`, text);
          b.type = 'button';
          b.dataset.action = action;
          b.addEventListener('click', () => onClick(row.dataset.email ?? ''));
          return b;
        };
        row.append(
          el('span', 'member-name'),
          button('up', 'Up', (email) => this.move(email, -1)),
          button('down', 'Down', (email) => this.move(email, +1)),
          button('remove', 'Remove', (email) => this.remove(email)),
        );
        return row;
      },
      (row, email) => {
        const index = this.members.indexOf(email);
        const name = this.directory.userName(email);
        row.querySelector('.member-name')!.textContent = name === email ? email : `${name} (${email})`;
        const up = row.querySelector<HTMLButtonElement>('.member-up')!;
        const down = row.querySelector<HTMLButtonElement>('.member-down')!;
        up.disabled = index === 0;
        down.disabled = index === this.members.length - 1;
        up.setAttribute('aria-label', `Move ${name} up`);
        down.setAttribute('aria-label', `Move ${name} down`);
        row.querySelector('.member-remove')!.setAttribute('aria-label', `Remove ${name}`);
      },
    );
    if (focused && focused !== document.activeElement && list.contains(focused)) {
      const row = focused.closest('li');
      const other = focused.dataset.action === 'up' ? '.member-down' : '.member-up';
      const target = focused instanceof HTMLButtonElement && focused.disabled ? row?.querySelector<HTMLButtonElement>(other) : focused;
      target?.focus();
    }
    $('group-members-empty').hidden = this.members.length > 0;

    // Who can be added: the org's people not in the group yet.
    const select = $<HTMLSelectElement>('group-add-member');
    const candidates = this.directory.users().filter((user) => !this.members.includes(user.email));
    select.replaceChildren(
      ...candidates.map((user) => {
        const option = el('option', '', user.name ? `${user.name} (${user.email})` : user.email);
        option.value = user.email;
        return option;
      }),
    );
    select.disabled = candidates.length === 0;
    $<HTMLButtonElement>('group-add-member-button').disabled = candidates.length === 0;
  }

  private move(email: string, delta: number): void {
    this.members = moveMember(this.members, this.members.indexOf(email), delta);
    this.renderMembers();
  }

  private remove(email: string): void {
    const index = this.members.indexOf(email);
    this.members = this.members.filter((member) => member !== email);
    this.renderMembers();
    // Focus to the next member's "Remove" (or the previous one's, or the add box): never lost.
    const rows = $('group-members').querySelectorAll<HTMLElement>('.member-remove');
    (rows[Math.min(index, rows.length - 1)] ?? $('group-add-member')).focus();
  }
}
