// People presence (docs/client-contract.md, "People presence"): the status the signed-in user
// sets (`presence.status`), and their team's presence (`presence.team`): a page of it, or a
// live view that starts from the pages and applies each `team.presence` the realtime channel
// brings (any tab: the leading tab subscribes for all of them).

import { PATHS } from './api.js';
import { Emitter } from './emitter.js';
import type { ApiClient } from './http.js';
import type { PresenceEvents } from './options.js';
import { DataRequests, ServiceError, withQuery } from './requests.js';

export type Availability = 'available' | 'away' | 'dnd';
export type Effective = 'offline' | 'onCall' | 'dnd' | 'away' | 'available';

/** A person as their colleagues see them: one shape for the user's own status and the team. */
export interface PersonPresence {
  email: string;
  name: string | null;
  identity: string;
  /** What they set, as it stands now (`available` once `until` has passed). */
  status: Availability;
  /** Epoch seconds. */
  until: number | null;
  note: string | null;
  /** Derived by the server: offline (no live voice device), on a call, else their status. */
  effective: Effective;
  onCall: boolean;
  onCallSince: number | null;
  lastSeen: number | null;
  devices: { online: number; push: number };
}

export interface StatusUpdate {
  status: Availability;
  /** Epoch seconds, in the future and at most 30 days ahead (`away` and `dnd` only); `null`: until changed. */
  until?: number | null;
  /** At most 100 characters. */
  note?: string | null;
}

export interface TeamPage {
  people: PersonPresence[];
  /** The `after` of the next page; `null` on the last. */
  next: string | null;
}

/** A request of people presence that failed: see `ServiceError` (`invalid_field` names the field). */
export class PeopleError extends ServiceError {
  override readonly name = 'PeopleError';
}

function requests(api: ApiClient): DataRequests<PeopleError> {
  return new DataRequests(api, (code, message, details) => new PeopleError(code, message, details));
}

/** `presence.status`: the signed-in user's own status. */
export class PresenceStatus {
  private readonly requests: DataRequests<PeopleError>;

  constructor(api: ApiClient) {
    this.requests = requests(api);
  }

  /** The user's presence, as their colleagues see it. */
  async get(): Promise<PersonPresence> {
    return (await this.requests.json('GET', PATHS.presenceStatus)) as PersonPresence;
  }

  /** Replace the user's status; their other devices hear `presence.status`, their colleagues `team.presence`. */
  async set(update: StatusUpdate): Promise<PersonPresence> {
    const body = { status: update.status, until: update.until ?? null, note: update.note ?? null };
    return (await this.requests.json('PUT', PATHS.presenceStatus, body)) as PersonPresence;
  }
}

/** What a TeamView needs of SoftphonePresence: its API, its events, and the subscription of its leading tab. */
export interface TeamSource {
  on<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): () => void;
  watchTeam(team: string): void;
}

/** `presence.team`: pages of the team, and live views. */
export class TeamPresence {
  private readonly requests: DataRequests<PeopleError>;

  constructor(
    api: ApiClient,
    private readonly source: TeamSource,
  ) {
    this.requests = requests(api);
  }

  /** One page of the org (or of `group`), sorted by name then email. */
  async page(options: { group?: string; after?: string; limit?: number } = {}): Promise<TeamPage> {
    const query: Record<string, string> = {};
    if (options.group) query.group = options.group;
    if (options.after) query.after = options.after;
    if (options.limit !== undefined) query.limit = String(options.limit);
    return (await this.requests.json('GET', withQuery(PATHS.team, query))) as TeamPage;
  }

  /** A live view of the org (or of `group`): every page, then each change as it comes. */
  watch(options: { group?: string } = {}): TeamView {
    return new TeamView(this, this.source, options.group);
  }
}

/** The team's people, kept current: `people` sorted as the server sorts them, `change` on every update. */
export class TeamView {
  private readonly byEmail = new Map<string, PersonPresence>();
  private readonly changes = new Emitter<{ change: PersonPresence[] }>();
  private readonly detach: (() => void)[];
  /** Changes that came while the pages loaded: applied after them, in order. */
  private pending: PersonPresence[] | null = [];
  /** Read once: a new realtime connection reads the pages again (changes while it was down are not sent again). */
  private loaded = false;

  constructor(
    private readonly team: TeamPresence,
    source: TeamSource,
    private readonly group?: string,
  ) {
    // Subscribed before the pages are read, so nothing between the two is missed; every new
    // connection subscribes again, and what changed while none was open is read again.
    this.detach = [
      source.on('teamPresence', (person) => this.apply(person)),
      source.on('realtime', ({ state }) => {
        if (state === 'connected' && this.loaded) this.load().catch(() => undefined);
      }),
    ];
    source.watchTeam('org');
  }

  /** Read every page (again): call once to start, and after a `resync`. */
  async load(): Promise<PersonPresence[]> {
    this.pending ??= [];
    const loaded: PersonPresence[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.team.page({ group: this.group, after, limit: 500 });
      loaded.push(...page.people);
      if (!page.next) break;
      after = page.next;
    }
    this.byEmail.clear();
    for (const person of loaded) this.byEmail.set(person.email, person);
    const pending = this.pending ?? [];
    this.pending = null;
    this.loaded = true;
    for (const person of pending) this.apply(person);
    this.emit();
    return this.people;
  }

  get people(): PersonPresence[] {
    return [...this.byEmail.values()].sort(
      (a, b) => sortName(a).localeCompare(sortName(b)) || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0),
    );
  }

  on(type: 'change', handler: (people: PersonPresence[]) => void): () => void {
    return this.changes.on(type, handler);
  }

  close(): void {
    for (const detach of this.detach) detach();
  }

  private apply(person: PersonPresence): void {
    if (this.pending) {
      this.pending.push(person);
      return;
    }
    // A group's view keeps its members only: the org's changes come to every view.
    if (this.group !== undefined && !this.byEmail.has(person.email)) return;
    this.byEmail.set(person.email, person);
    this.emit();
  }

  private emit(): void {
    this.changes.emit('change', this.people);
  }
}

function sortName(person: PersonPresence): string {
  return (person.name ?? person.email).toLowerCase();
}

/** A `team.presence` frame's data that has the shape of a presence. */
export function isPersonPresence(data: unknown): data is PersonPresence {
  if (typeof data !== 'object' || data === null) return false;
  const p = data as Record<string, unknown>;
  return typeof p.email === 'string' && typeof p.effective === 'string' && typeof p.status === 'string';
}
