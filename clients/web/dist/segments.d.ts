/** The longest text the service sends (and Twilio delivers), in characters (code points). */
export declare const MAX_SMS_CHARS = 1600;
export type SmsEncoding = 'GSM-7' | 'UCS-2';
export interface SegmentCount {
    encoding: SmsEncoding;
    /** At least 1: an empty text is one segment. */
    segments: number;
    /** Characters (code points), as the 1,600 limit counts them. */
    characters: number;
    /** Whether the service takes it: 1 to 1,600 characters. */
    sendable: boolean;
}
/** The segments `body` takes, its encoding, and whether it can be sent. */
export declare function segments(body: string): SegmentCount;
