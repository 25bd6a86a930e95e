import type { StorageLike } from './environment.js';
export declare const STORAGE_KEYS: {
    readonly deviceId: 'softphone.deviceId';
    /** Set when this device was signed out (remotely or by `signOut()`): no automatic start. */
    readonly signedOut: 'softphone.signedOut';
};
/** The stored device id, or a new `web_` + UUID, stored. */
export declare function loadDeviceId(storage: StorageLike | null, randomUUID: () => string): string;
export declare function isSignedOutStored(storage: StorageLike | null): boolean;
export declare function rememberSignedOut(storage: StorageLike | null, now: number): void;
export declare function forgetSignedOut(storage: StorageLike | null): void;
