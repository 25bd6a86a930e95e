// segments(body): the server's rule (shared/src/sms/segments.rs), with the cases of its tests,
// plus what the reply box needs beside the count (characters, whether it can be sent).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SMS_CHARS, segments } from '../../src/softphone-presence.ts';

const count = (body) => {
  const { encoding, segments: n } = segments(body);
  return [encoding, n];
};

test('GSM-7 fits 160 characters, then 153 per segment', () => {
  assert.deepEqual(count(''), ['GSM-7', 1]);
  assert.deepEqual(count('a'.repeat(160)), ['GSM-7', 1]);
  assert.deepEqual(count('a'.repeat(161)), ['GSM-7', 2]);
  assert.deepEqual(count('a'.repeat(306)), ['GSM-7', 2]);
  assert.deepEqual(count('a'.repeat(307)), ['GSM-7', 3]);
  assert.deepEqual(count('Grüße, Δ & @ £5'), ['GSM-7', 1]);
});

test('extension characters take two septets', () => {
  assert.deepEqual(count('€'.repeat(80)), ['GSM-7', 1]);
  assert.deepEqual(count('€'.repeat(81)), ['GSM-7', 2]);
  assert.deepEqual(count(`${'a'.repeat(159)}[`), ['GSM-7', 2]);
  for (const c of '^{}\\[~]|€\f') assert.deepEqual(count(`${'a'.repeat(158)}${c}`), ['GSM-7', 1], JSON.stringify(c));
});

test('one character outside GSM-7 makes the whole text UCS-2', () => {
  assert.deepEqual(count('a'.repeat(70)), ['GSM-7', 1]);
  assert.deepEqual(count(`${'a'.repeat(69)}’`), ['UCS-2', 1]);
  assert.deepEqual(count(`${'a'.repeat(70)}’`), ['UCS-2', 2]);
  assert.deepEqual(count('é'.repeat(10)), ['GSM-7', 1]);
  assert.deepEqual(count('ê'.repeat(134)), ['UCS-2', 2]);
  assert.deepEqual(count('ê'.repeat(135)), ['UCS-2', 3]);
  // An emoji is two UTF-16 units.
  assert.deepEqual(count('😀'.repeat(35)), ['UCS-2', 1]);
  assert.deepEqual(count('😀'.repeat(36)), ['UCS-2', 2]);
});

test('newlines and carriage returns are GSM-7; a tab is not', () => {
  assert.deepEqual(count('line one\r\nline two'), ['GSM-7', 1]);
  assert.deepEqual(count('a\tb'), ['UCS-2', 1]);
});

test('characters count code points, and 1 to 1,600 of them can be sent', () => {
  assert.equal(MAX_SMS_CHARS, 1600);
  assert.deepEqual(segments(''), { encoding: 'GSM-7', segments: 1, characters: 0, sendable: false });
  assert.deepEqual(segments('a'.repeat(1600)), { encoding: 'GSM-7', segments: 11, characters: 1600, sendable: true });
  assert.equal(segments('a'.repeat(1601)).sendable, false);
  assert.deepEqual(segments('😀'.repeat(1600)), { encoding: 'UCS-2', segments: 48, characters: 1600, sendable: true });
  assert.equal(segments('😀'.repeat(1601)).sendable, false);
});
