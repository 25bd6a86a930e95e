// How long to wait before trying again: the exponential backoff with jitter that the
// lifecycle, the realtime channel and the inbox's send share (docs/client-contract.md).

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

/** After the `failures`-th failure in a row: 1, 2, 4 … 30 s, each time between half and all of it, at random. */
export function backoffMs(failures: number, random: () => number): number {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
  return base / 2 + (base / 2) * random();
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or `undefined` without a usable one. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
