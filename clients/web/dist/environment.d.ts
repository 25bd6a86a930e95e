export interface HttpResponse {
    readonly status: number;
    readonly headers: {
        get(name: string): string | null;
    };
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
    request(name: string, options: {
        signal?: AbortSignal;
    }, callback: (lock: unknown) => Promise<void> | void): Promise<unknown>;
}
export interface ChannelLike {
    postMessage(message: unknown): void;
    addEventListener(type: 'message', listener: (event: {
        data: unknown;
    }) => void): void;
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
    addEventListener(type: 'message', listener: (event: {
        data: unknown;
    }) => void): void;
    addEventListener(type: 'close', listener: (event: {
        code: number;
        reason: string;
    }) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;
/** Where `pagehide` and `pageshow` arrive: the window. */
export interface PageEvents {
    addEventListener(type: 'pagehide' | 'pageshow', listener: (event: {
        persisted?: boolean;
    }) => void): void;
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
export declare function browserEnvironment(): Environment;
/** A short device label such as "Chrome on macOS", from the user agent string. */
export declare function labelFromUserAgent(userAgent: string): string;
