import type { SocketPresence } from './api.js';
import type { Environment } from './environment.js';
import type { EventLog, ServerEvent } from './events.js';
import type { Outcome } from './outcome.js';
export type RealtimeState = 'closed' | 'connecting' | 'connected';
/** Offered first in `Sec-WebSocket-Protocol`, before the ticket; the server echoes it. */
export declare const SUBPROTOCOL = "softphone-presence.v1";
/** Events per catch-up request; a full page is followed at once. */
export declare const PAGE_LIMIT = 100;
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
    report(): {
        twilioState?: string;
    };
    /** A ping carrying `report` was answered: it is recorded. */
    reported(report: {
        twilioState?: string;
    }): void;
    /** The teams to watch (`"org"` or group ids): subscribed on every connection as it opens. */
    teams(): readonly string[];
    /** A colleague's presence changed (`team.presence`): state, not an event of the log. */
    teamPresence(data: unknown): void;
}
export declare class RealtimeChannel {
    private readonly host;
    private running;
    /** Bumped by `stop()`: answers to requests of an earlier run are dropped. */
    private run;
    /** The connection events come through. */
    private link;
    /** A connection being opened: the first, one after a loss, or the replacement of `link`. */
    private pending;
    /** A start cursor or a ticket is being asked for. */
    private asking;
    private waitingForRegister;
    /** Tickets refused with 404 since a connection last opened. */
    private refusals;
    private failures;
    private retryTimer;
    private catchingUp;
    private catchUpAgain;
    private catchUpFailures;
    private catchUpTimer;
    /** Pushed while a catch-up runs: delivered after it, so that events come in order. */
    private buffered;
    private _state;
    constructor(host: RealtimeHost);
    get state(): RealtimeState;
    /** Open the channel (once the device is registered); nothing if it runs already. */
    start(): void;
    /** Close it: sign-out, stop, `pagehide`, or this tab no longer leads. The log is kept. */
    stop(): void;
    /** The device registered again: a ticket refused with 404 may now be asked for again. */
    registered(): void;
    private connect;
    /** The start cursor when there is none yet (before the socket, so nothing falls between), then a ticket. */
    private ticket;
    private open;
    private opened;
    /** Subscribe the open connection to `team` now (the next ones do on their own). */
    subscribe(team: string): void;
    private sendFrame;
    private received;
    private schedulePing;
    /** Ping now (and then on the interval again): the keep-alive, or a changed Twilio state to report. */
    pingNow(): void;
    private ping;
    /** Closed by the server or the network, refused, silent after a ping, or too slow to open. */
    private lost;
    private drop;
    private retry;
    private schedule;
    /** 1, 2, 4 … 30 s, each time between half and all of it, at random. */
    private backoff;
    /** After every connect: the events after the log's cursor, page after page. */
    private catchUp;
    /** `false` when a request failed (try again later). */
    private catchUpPages;
    private setState;
    private later;
    private cancel;
}
