// How many SMS segments a text takes, counted as the server (shared/src/sms/segments.rs) and
// Twilio count them: GSM-7 when every character is in the GSM 03.38 alphabet (160 septets in
// one segment, 153 per segment of a longer text; the extension characters take two), else
// UCS-2 (70 UTF-16 units in one segment, 67 per segment), where one character outside GSM-7
// makes the whole text UCS-2.

/** The longest text the service sends (and Twilio delivers), in characters (code points). */
export const MAX_SMS_CHARS = 1600;

/** The GSM 03.38 basic character set. */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
/** The extension table: each takes an escape septet and itself. */
const GSM_EXTENDED = new Set('^{}\\[~]|€\f');

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
export function segments(body: string): SegmentCount {
  const characters = [...body].length;
  const sendable = characters > 0 && characters <= MAX_SMS_CHARS;
  let septets = 0;
  for (const c of body) {
    if (GSM_BASIC.has(c)) {
      septets += 1;
    } else if (GSM_EXTENDED.has(c)) {
      septets += 2;
    } else {
      // UTF-16 units: an emoji outside the BMP is two.
      return { encoding: 'UCS-2', segments: parts(body.length, 70, 67), characters, sendable };
    }
  }
  return { encoding: 'GSM-7', segments: parts(septets, 160, 153), characters, sendable };
}

function parts(units: number, single: number, each: number): number {
  return units <= single ? 1 : Math.ceil(units / each);
}
