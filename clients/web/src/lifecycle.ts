// The lifecycle of one tab as one value: the state it is in, whether it leads, and what that
// state holds. Each variant carries its own data, so that nothing can say "stopped" while
// holding a lock, "live" without a registration, or "signedOut" with a timer set.
//
//   stopped ──▶ following ──▶ leading: starting ──▶ live ◀──▶ reconnecting
//                                  │                 │            │
//                                  └─────────────────┴────────────┴──▶ signedOut
//
// A tab that follows shows the leading tab's state (tab-presence.ts mirrors it); the leading
// tab's states are the contract's (presence.ts and request-loop.ts move between them).

import type { RegisterResponse, TwilioState } from './api.js';
import type { PresenceState } from './options.js';

/** Not running in this tab: `start()` begins. */
export interface Stopped {
  readonly state: 'stopped';
  readonly leader: false;
  /** Stopped by `pagehide`: a `pageshow` from the back/forward cache starts it again. */
  readonly suspended: boolean;
}

/** Started while another tab of the browser leads, or before the lock is this tab's. */
export interface Following {
  /** The leading tab's state, as it last said; `starting` until it has. */
  readonly state: Exclude<PresenceState, 'stopped'>;
  readonly leader: false;
  /** The request for the lock, aborted when this tab stops; `null` without Web Locks (it leads at once). */
  readonly lockRequest: AbortController | null;
}

/** What every leading state holds. */
interface Leading {
  readonly leader: true;
  /** Releases the lock (closing the tab releases it too); a no-op without Web Locks. */
  readonly releaseLock: () => void;
}

/** Leading, and the device was signed out: no Device, no timer, no request. The lock stays taken. */
export interface SignedOut extends Leading {
  readonly state: 'signedOut';
}

/** What the states that run the request loop hold. */
interface RunningState extends Leading {
  readonly run: Run;
  /** The last registration of this run; `null` until a register answered (the next request registers). */
  readonly device: Registered | null;
  /** A register was asked for (a new Twilio token, a sign-in, a 404): the next request registers. */
  readonly registerNext: boolean;
}

/** Leading and registering: the first request of a run (a lead, a sign-in) is a register. */
export interface Starting extends RunningState {
  readonly state: 'starting';
}

/** Registered: heartbeats every `device.intervalSeconds`, jittered. */
export interface Live extends RunningState {
  readonly state: 'live';
  readonly device: Registered;
}

/** A request failed: trying again after a backoff. */
export interface Reconnecting extends RunningState {
  readonly state: 'reconnecting';
  /** Failures in a row that count for the backoff (a 404 sends the register at once and does not). */
  readonly failures: number;
}

/** The states that run the request loop. */
export type Running = Starting | Live | Reconnecting;

export type Lifecycle = Stopped | Following | SignedOut | Running;

/** What the leading tab knows once a register succeeded, updated by every heartbeat. */
export interface Registered {
  readonly registration: RegisterResponse;
  /** The device's TTL ends then (epoch ms): after it, only a register brings it back. */
  readonly expiresAtMs: number;
  readonly intervalSeconds: number;
  /** The Twilio state the server last heard from this tab. */
  readonly reportedTwilioState: TwilioState | undefined;
}

/**
 * One run of the request loop, from a lead (or a sign-in) to a sign-out or a stop; starting,
 * live and reconnecting share it. An answer that comes after its run ended is dropped.
 */
export class Run {
  next: Next = { kind: 'idle' };
}

export type Next =
  /** Nothing scheduled yet: only while a run begins. */
  | { readonly kind: 'idle' }
  /** The timer runs the next request at `due` (epoch ms). */
  | { readonly kind: 'waiting'; readonly timer: unknown; readonly due: number }
  /** A request is in flight; `registerAfter`: a register was asked for meanwhile, run it right after if live. */
  | { readonly kind: 'requesting'; registerAfter: boolean }
  /** Over: its state is being left (signed out, stopped). */
  | { readonly kind: 'ended' };

export const STOPPED: Stopped = { state: 'stopped', leader: false, suspended: false };

export function isRunning(lifecycle: Lifecycle): lifecycle is Running {
  return lifecycle.leader && lifecycle.state !== 'signedOut';
}
