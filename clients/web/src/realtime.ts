// The realtime channel of docs/client-contract.md, run by the leading tab while its device is
// registered: a ticket, then a WebSocket; a ping every `presence.socket.keepAliveSeconds`
// (socket presence: each ping keeps the device live, so the tab stops heartbeating while the
// channel is open; 4 to 5 minutes from a server without it; API Gateway closes idle
// connections after 10); a new connection before API Gateway's two-hour cap; reconnection with
// exponential backoff and jitter; and a catch-up (GET /phone/events?after=) after every
// connect, so that nothing pushed while the channel was down is missed.
//
//   closed ──start()──▶ connecting ──open──▶ connected
//                          ▲                      │ closed, error, no pong
//                          └────── backoff ───────┘
//
// Every event, pushed or caught up, goes to the host, which drops those it has seen (by cursor).
// Team presence (`team.presence`, state rather than events) goes to the host as it comes, for
// the teams the host names, subscribed again on every connection.

import { PATHS } from './api.js';
import { backoffMs } from './backoff.js';
import type { EventsResponse, SocketPresence, TicketResponse } from './api.js';
import type { Environment, WebSocketLike } from './environment.js';
import { isCursor, parseEvent } from './events.js';
import type { EventLog, ServerEvent } from './events.js';
import type { Outcome } from './outcome.js';

export type RealtimeState = 'closed' | 'connecting' | 'connected';

/** Offered first in `Sec-WebSocket-Protocol`, before the ticket; the server echoes it. */
export const SUBPROTOCOL = 'softphone-presence.v1';
/** Events per catch-up request; a full page is followed at once. */
export const PAGE_LIMIT = 100;
/** Without socket presence: a ping every 4 to 5 minutes, well within API Gateway's 10-minute idle timeout. */
const PING_MS = 4 * 60_000;
const PING_JITTER_MS = 60_000;
/** With it: every `keepAliveSeconds`, less up to this share of it at random (never later: the lease counts from the ping). */
const KEEP_ALIVE_JITTER = 0.1;
/** No frame at all this long after a ping: the connection is lost. */
const PONG_TIMEOUT_MS = 10_000;
/** A handshake not done by then is given up. */
const OPEN_TIMEOUT_MS = 15_000;
/** API Gateway closes every connection after 2 hours: replace it after 105 to 110 minutes. */
const REFRESH_MS = 110 * 60_000;
const REFRESH_JITTER_MS = 5 * 60_000;
/** A connection that lasted this long was a good one: after it, the backoff starts over. */
const STABLE_MS = 60_000;
/** Close code of a connection this side gives up on (no pong, handshake too slow). */
const CLOSE_LOST = 4000;

/** What the channel needs from the lifecycle that runs it. */
export interface RealtimeHost {
  readonly env: Environment;
  readonly deviceId: string;
  /** Where catch-up starts; the host keeps it up to date through `deliver` and `advance`. */
  readonly log: EventLog;
  /** A request with the app token (a 401 is retried once with a refreshed one). */
  request(method: 'GET' | 'POST', path: string, body?: object): Promise<Outcome>;
  /** Events in order, some perhaps seen before: the host drops those by cursor. */
  deliver(events: ServerEvent[]): void;
  /** Every event up to `cursor` has been delivered. */
  advance(cursor: string): void;
  /** The log no longer reaches back to the cursor (410 `cursor_expired`): the app reloads. */
  resync(): void;
  /** The ticket was refused with 404 `device_not_registered`, or a pong said the device is no longer live: register, then `registered()`. */
  notRegistered(): void;
  state(state: RealtimeState): void;
  /** The server's socket presence settings, once a register has told them; `null` before or without. */
  socket(): SocketPresence | null;
  /** What the next ping reports beyond its type: a Twilio state that changed since it was last reported. */
  report(): { twilioState?: string };
  /** A ping carrying `report` was answered: it is recorded. */
  reported(report: { twilioState?: string }): void;
  /** The teams to watch (`"org"` or group ids): subscribed on every connection as it opens. */
  teams(): readonly string[];
  /** A colleague's presence changed (`team.presence`): state, not an event of the log. */
  teamPresence(data: unknown): void;
}

interface Link {
  readonly ws: WebSocketLike;
  /** When the handshake completed (the host's clock), `null` before. */
  openedAt: number | null;
  closed: boolean;
  openTimer: unknown;
  pingTimer: unknown;
  pongTimer: unknown;
  refreshTimer: unknown;
  /** What the ping awaiting its pong reported. */
  pinged: { twilioState?: string } | null;
}

type Ticket = { kind: 'ok'; ticket: TicketResponse } | { kind: 'notRegistered' } | { kind: 'failed' };

export class RealtimeChannel {
  private readonly host: RealtimeHost;
  private running = false;
  /** Bumped by `stop()`: answers to requests of an earlier run are dropped. */
  private run = 0;
  /** The connection events come through. */
  private link: Link | null = null;
  /** A connection being opened: the first, one after a loss, or the replacement of `link`. */
  private pending: Link | null = null;
  /** A start cursor or a ticket is being asked for. */
  private asking = false;
  private waitingForRegister = false;
  /** Tickets refused with 404 since a connection last opened. */
  private refusals = 0;
  private failures = 0;
  private retryTimer: unknown = null;
  private catchingUp = false;
  private catchUpAgain = false;
  private catchUpFailures = 0;
  private catchUpTimer: unknown = null;
  /** Pushed while a catch-up runs: delivered after it, so that events come in order. */
  private buffered: ServerEvent[] = [];
  private _state: RealtimeState = 'closed';

  constructor(host: RealtimeHost) {
    this.host = host;
  }

  get state(): RealtimeState {
    return this._state;
  }

  /** Open the channel (once the device is registered); nothing if it runs already. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.refusals = 0;
    this.catchUpFailures = 0;
    this.setState('connecting');
    void this.connect();
  }

  /** Close it: sign-out, stop, `pagehide`, or this tab no longer leads. The log is kept. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.run += 1;
    this.asking = false;
    this.waitingForRegister = false;
    this.catchingUp = false;
    this.buffered = [];
    this.cancel(this.retryTimer);
    this.cancel(this.catchUpTimer);
    this.retryTimer = null;
    this.catchUpTimer = null;
    for (const link of [this.link, this.pending]) if (link) this.drop(link, 1000, 'stopped');
    this.link = null;
    this.pending = null;
    this.setState('closed');
  }

  /** The device registered again: a ticket refused with 404 may now be asked for again. */
  registered(): void {
    if (!this.running || !this.waitingForRegister) return;
    this.waitingForRegister = false;
    // Right away, unless the ticket was refused again and again (then with backoff).
    this.schedule(this.refusals > 1 ? this.backoff(this.refusals - 1) : 0);
  }

  // ── connecting ────────────────────────────────────────────────────────────

  private async connect(): Promise<void> {
    if (!this.running || this.asking || this.pending || this.waitingForRegister) return;
    const run = this.run;
    this.asking = true;
    const ticket = await this.ticket(run);
    if (run !== this.run) return;
    this.asking = false;
    if (ticket.kind === 'notRegistered') {
      this.refusals += 1;
      this.waitingForRegister = true;
      this.host.notRegistered();
    } else if (ticket.kind === 'failed') {
      this.retry();
    } else {
      this.open(ticket.ticket);
    }
  }

  /** The start cursor when there is none yet (before the socket, so nothing falls between), then a ticket. */
  private async ticket(run: number): Promise<Ticket> {
    if (this.host.log.cursor === null) {
      const start = await this.host.request('GET', PATHS.events);
      if (run !== this.run) return { kind: 'failed' };
      const cursor = start.kind === 'ok' ? (start.body as Partial<EventsResponse>).cursor : undefined;
      if (!isCursor(cursor)) return { kind: 'failed' };
      this.host.advance(cursor);
    }
    const outcome = await this.host.request('POST', PATHS.ticket, { deviceId: this.host.deviceId });
    if (outcome.kind === 'notRegistered') return outcome;
    if (outcome.kind !== 'ok') return { kind: 'failed' };
    const body = outcome.body as Partial<TicketResponse>;
    if (typeof body.ticket !== 'string' || typeof body.url !== 'string') return { kind: 'failed' };
    return { kind: 'ok', ticket: body as TicketResponse };
  }

  private open({ url, ticket }: TicketResponse): void {
    const WebSocketClass = this.host.env.WebSocket;
    let ws: WebSocketLike;
    try {
      if (!WebSocketClass) throw new Error('no WebSocket');
      ws = new WebSocketClass(url, [SUBPROTOCOL, ticket]);
    } catch {
      this.retry();
      return;
    }
    const link: Link = {
      ws,
      openedAt: null,
      closed: false,
      openTimer: null,
      pingTimer: null,
      pongTimer: null,
      refreshTimer: null,
      pinged: null,
    };
    this.pending = link;
    link.openTimer = this.later(OPEN_TIMEOUT_MS, () => this.lost(link));
    // A refused handshake (401: the ticket; 403: the device is gone) is only an error and a
    // close 1006 to a browser: the next try asks for a new ticket, which says 404 if need be.
    ws.addEventListener('open', () => this.opened(link));
    ws.addEventListener('message', (event) => this.received(link, event.data));
    ws.addEventListener('error', () => this.lost(link));
    ws.addEventListener('close', () => this.lost(link));
  }

  private opened(link: Link): void {
    if (link.closed || link !== this.pending) return;
    this.pending = null;
    this.refusals = 0;
    this.cancel(link.openTimer);
    link.openedAt = this.host.env.now();
    const previous = this.link;
    this.link = link;
    // Made before broken: what both pushed meanwhile is dropped by cursor.
    if (previous) this.drop(previous, 1000, 'replaced');
    this.schedulePing(link);
    const refreshIn = REFRESH_MS - REFRESH_JITTER_MS * this.host.env.random();
    link.refreshTimer = this.later(refreshIn, () => void this.connect());
    this.setState('connected');
    // Subscriptions end with a connection: each new one subscribes again.
    for (const team of this.host.teams()) this.sendFrame(link, { type: 'subscribe', team });
    void this.catchUp();
  }

  /** Subscribe the open connection to `team` now (the next ones do on their own). */
  subscribe(team: string): void {
    if (this.link && !this.link.closed) this.sendFrame(this.link, { type: 'subscribe', team });
  }

  private sendFrame(link: Link, frame: object): void {
    try {
      link.ws.send(JSON.stringify(frame));
    } catch {
      this.lost(link);
    }
  }

  private received(link: Link, data: unknown): void {
    if (link.closed || typeof data !== 'string') return;
    // Any frame shows that the connection works.
    this.cancel(link.pongTimer);
    link.pongTimer = null;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (isPong(message)) {
      const report = link.pinged;
      link.pinged = null;
      if (report && Object.keys(report).length > 0) this.host.reported(report);
      // Socket presence: the device is no longer live (unregistered, signed out, expired).
      if (message.live === false) this.host.notRegistered();
      return;
    }
    if (isTeamPresence(message)) {
      this.host.teamPresence(message.data);
      return;
    }
    // A frame this version does not know (`subscribed` included): nothing to do.
    const event = parseEvent(message);
    if (!event) return;
    if (this.catchingUp) this.buffered.push(event);
    else this.host.deliver([event]);
  }

  private schedulePing(link: Link): void {
    const socket = this.host.socket();
    const random = this.host.env.random();
    const delay = socket ? socket.keepAliveSeconds * 1000 * (1 - KEEP_ALIVE_JITTER * random) : PING_MS + PING_JITTER_MS * random;
    link.pingTimer = this.later(delay, () => this.ping(link));
  }

  /** Ping now (and then on the interval again): the keep-alive, or a changed Twilio state to report. */
  pingNow(): void {
    const link = this.link;
    if (!link || link.closed) return;
    this.cancel(link.pingTimer);
    this.ping(link);
  }

  private ping(link: Link): void {
    if (link.closed) return;
    const report = this.host.report();
    try {
      link.ws.send(JSON.stringify({ type: 'ping', ...report }));
    } catch {
      this.lost(link);
      return;
    }
    link.pinged = report;
    this.cancel(link.pongTimer);
    link.pongTimer = this.later(PONG_TIMEOUT_MS, () => this.lost(link));
    this.schedulePing(link);
  }

  /** Closed by the server or the network, refused, silent after a ping, or too slow to open. */
  private lost(link: Link): void {
    if (link.closed) return;
    this.drop(link, CLOSE_LOST, 'lost');
    if (!this.running) return;
    if (link === this.pending) {
      this.pending = null;
      this.retry();
      return;
    }
    if (link !== this.link) return;
    this.link = null;
    if (link.openedAt !== null && this.host.env.now() - link.openedAt >= STABLE_MS) this.failures = 0;
    this.setState('connecting');
    // A replacement already under way (the refresh before the two-hour cap) carries on.
    if (!this.pending && !this.asking) this.retry();
  }

  private drop(link: Link, code: number, reason: string): void {
    link.closed = true;
    for (const timer of [link.openTimer, link.pingTimer, link.pongTimer, link.refreshTimer]) this.cancel(timer);
    try {
      link.ws.close(code, reason);
    } catch {
      // Closed already.
    }
  }

  private retry(): void {
    this.failures += 1;
    this.schedule(this.backoff(this.failures));
  }

  private schedule(ms: number): void {
    this.cancel(this.retryTimer);
    this.retryTimer = this.later(ms, () => {
      this.retryTimer = null;
      void this.connect();
    });
  }

  /** 1, 2, 4 … 30 s, each time between half and all of it, at random. */
  private backoff(failures: number): number {
    return backoffMs(failures, () => this.host.env.random());
  }

  // ── catch-up ──────────────────────────────────────────────────────────────

  /** After every connect: the events after the log's cursor, page after page. */
  private async catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    const run = this.run;
    this.catchingUp = true;
    this.cancel(this.catchUpTimer);
    this.catchUpTimer = null;
    let ok: boolean;
    do {
      this.catchUpAgain = false;
      ok = await this.catchUpPages(run);
      if (run !== this.run) return;
    } while (ok && this.catchUpAgain);
    this.catchingUp = false;
    const buffered = this.buffered;
    this.buffered = [];
    if (buffered.length > 0) this.host.deliver(buffered);
    if (run !== this.run) return;
    if (ok) {
      this.catchUpFailures = 0;
      return;
    }
    // The socket still delivers; what it missed comes with the next try.
    this.catchUpFailures += 1;
    this.catchUpTimer = this.later(this.backoff(this.catchUpFailures), () => {
      this.catchUpTimer = null;
      if (this.link) void this.catchUp();
    });
  }

  /** `false` when a request failed (try again later). */
  private async catchUpPages(run: number): Promise<boolean> {
    let resynced = false;
    for (;;) {
      const after = this.host.log.cursor;
      if (after === null) return false;
      // With the device's id, a voice-only device is not given the inbox's events (as the push
      // never sends them to it).
      const device = encodeURIComponent(this.host.deviceId);
      const outcome = await this.host.request('GET', `${PATHS.events}?after=${after}&limit=${PAGE_LIMIT}&deviceId=${device}`);
      if (run !== this.run) return false;
      if (outcome.kind === 'cursorExpired' || outcome.kind === 'fatal') {
        // Older than the log keeps (or a cursor the server does not take): start over from a
        // fresh cursor, and tell the app to reload what it shows. Once: a fresh cursor refused
        // too is tried again later.
        if (resynced) return false;
        resynced = true;
        const fresh = await this.host.request('GET', PATHS.events);
        if (run !== this.run) return false;
        const cursor = fresh.kind === 'ok' ? (fresh.body as Partial<EventsResponse>).cursor : undefined;
        if (!isCursor(cursor)) return false;
        this.host.advance(cursor);
        this.host.resync();
        if (run !== this.run) return false;
        continue;
      }
      if (outcome.kind !== 'ok') return false;
      const body = outcome.body as Partial<EventsResponse>;
      if (!Array.isArray(body.events) || !isCursor(body.cursor)) return false;
      const events = body.events.map(parseEvent).filter((event): event is ServerEvent => event !== null);
      this.host.deliver(events);
      if (run !== this.run) return false;
      this.host.advance(body.cursor);
      // A full page: more are waiting (`more` counts the events this device is not given).
      const more = typeof body.more === 'boolean' ? body.more : body.events.length >= PAGE_LIMIT;
      if (!more) return true;
    }
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  private setState(state: RealtimeState): void {
    if (state === this._state) return;
    this._state = state;
    this.host.state(state);
  }

  private later(ms: number, callback: () => void): unknown {
    return this.host.env.setTimeout(callback, ms);
  }

  private cancel(timer: unknown): void {
    if (timer !== null && timer !== undefined) this.host.env.clearTimeout(timer);
  }
}

function isTeamPresence(message: unknown): message is { type: 'team.presence'; data: unknown } {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'team.presence';
}

function isPong(message: unknown): message is { type: 'pong'; live?: boolean } {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'pong';
}
