// Everything the lifecycle touches outside itself: time, randomness, the network, storage, the
// other tabs and the page. The browser's objects are the defaults; tests pass fakes.

export interface HttpResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
  /** The body as a file (MMS media). */
  blob(): Promise<Blob>;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  keepalive?: boolean;
}

export type FetchLike = (url: string, init: HttpRequest) => Promise<HttpResponse>;

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The part of `navigator.locks` (Web Locks API) used to elect one tab. */
export interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void> | void,
  ): Promise<unknown>;
}

export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(): void;
}

export type ChannelConstructor = new (name: string) => ChannelLike;

/** The part of the browser's `WebSocket` the realtime channel uses. */
export interface WebSocketLike {
  /** The subprotocol the server chose, once open. */
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** Where `pagehide` and `pageshow` arrive: the window. */
export interface PageEvents {
  addEventListener(type: 'pagehide' | 'pageshow', listener: (event: { persisted?: boolean }) => void): void;
}

export interface Environment {
  fetch: FetchLike;
  /** `null` when storage is unavailable (then the device id lives as long as the page). */
  storage: StorageLike | null;
  /** `null` without the Web Locks API: every tab then runs its own Device. */
  locks: LockManagerLike | null;
  BroadcastChannel: ChannelConstructor | null;
  /** `null` without WebSockets: no realtime channel, and no server events. */
  WebSocket: WebSocketConstructor | null;
  page: PageEvents | null;
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** In [0, 1), like Math.random. */
  random(): number;
  randomUUID(): string;
  userAgent: string;
}

/** The environment's clock and timers: everything in the library that waits or reads the time uses these. */
export type Clock = Pick<Environment, 'now' | 'setTimeout' | 'clearTimeout'>;

function browserStorage(): StorageLike | null {
  try {
    // Reading localStorage throws where storage is blocked (some privacy modes, sandboxed frames).
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function uuidV4(random: () => number): string {
  const hex = [...Array(32)].map(() => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export function browserEnvironment(): Environment {
  const g = globalThis as typeof globalThis & { navigator?: Navigator; window?: Window };
  const nav = g.navigator;
  return {
    fetch: (url, init) => g.fetch(url, init),
    storage: browserStorage(),
    locks: (nav?.locks as LockManagerLike | undefined) ?? null,
    BroadcastChannel: (g.BroadcastChannel as ChannelConstructor | undefined) ?? null,
    WebSocket: (g.WebSocket as unknown as WebSocketConstructor | undefined) ?? null,
    page: g.window ?? null,
    now: () => Date.now(),
    setTimeout: (callback, ms) => g.setTimeout(callback, ms),
    clearTimeout: (handle) => g.clearTimeout(handle as number),
    random: () => Math.random(),
    randomUUID: () =>
      typeof g.crypto?.randomUUID === 'function' ? g.crypto.randomUUID() : uuidV4(Math.random),
    userAgent: nav?.userAgent ?? '',
  };
}

/** A short device label such as "Chrome on macOS", from the user agent string. */
export function labelFromUserAgent(userAgent: string): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /OPR\//.test(userAgent)
      ? 'Opera'
      : /Firefox\//.test(userAgent)
        ? 'Firefox'
        : /Chrom(e|ium)\//.test(userAgent)
          ? 'Chrome'
          : /Safari\//.test(userAgent)
            ? 'Safari'
            : 'Web browser';
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(userAgent)
      ? 'iOS'
      : /Mac OS X|Macintosh/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /CrOS/.test(userAgent)
            ? 'ChromeOS'
            : /Linux/.test(userAgent)
              ? 'Linux'
              : '';
  return os ? `${browser} on ${os}` : browser;
}
