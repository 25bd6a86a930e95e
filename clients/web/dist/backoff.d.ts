/** After the `failures`-th failure in a row: 1, 2, 4 … 30 s, each time between half and all of it, at random. */
export declare function backoffMs(failures: number, random: () => number): number;
/** `Retry-After` in milliseconds (seconds or an HTTP date), or `undefined` without a usable one. */
export declare function retryAfterMs(value: string | null, now: number): number | undefined;
