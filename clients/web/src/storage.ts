// What the library keeps in localStorage: the browser's device id, and whether it was signed
// out (so that reloads and other tabs stay signed out until the user signs in again).

import type { StorageLike } from './environment.js';

export const STORAGE_KEYS = {
  deviceId: 'softphone.deviceId',
  /** Set when this device was signed out (remotely or by `signOut()`): no automatic start. */
  signedOut: 'softphone.signedOut',
} as const;

/** The stored device id, or a new `web_` + UUID, stored. */
export function loadDeviceId(storage: StorageLike | null, randomUUID: () => string): string {
  const stored = storage?.getItem(STORAGE_KEYS.deviceId);
  if (stored && /^[A-Za-z0-9._:-]{1,128}$/.test(stored)) return stored;
  // Once per browser profile: a new id per load would push the user's other devices out.
  const id = `web_${randomUUID()}`;
  storage?.setItem(STORAGE_KEYS.deviceId, id);
  return id;
}

export function isSignedOutStored(storage: StorageLike | null): boolean {
  return storage?.getItem(STORAGE_KEYS.signedOut) != null;
}

export function rememberSignedOut(storage: StorageLike | null, now: number): void {
  storage?.setItem(STORAGE_KEYS.signedOut, String(now));
}

export function forgetSignedOut(storage: StorageLike | null): void {
  storage?.removeItem(STORAGE_KEYS.signedOut);
}
