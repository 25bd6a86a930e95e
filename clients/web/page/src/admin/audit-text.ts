// What the audit log shows of one entry: who did what to which record, and what changed, field
// by field ("ringTimeoutSeconds: 25 → 40", "members: added carol@example.com"). Pure, so the
// unit tests read the same sentences the page shows.

export interface AuditRecordRef {
  kind: string;
  id: string;
}

/** One entry of `GET /phone/admin/audit`. */
export interface AuditEntry {
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  /** `user.created`, `group.updated`, `phone.deleted`, `outbound.updated`, … */
  action: string;
  record: AuditRecordRef;
  before: unknown;
  after: unknown;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** `before` of the next, older page; `null` on the last. */
  cursor: string | null;
}

export interface AuditText {
  /** "updated the group Sales (grp-sales)". */
  what: string;
  /** One line per field that changed; for a record created or deleted, each field it had. */
  changes: string[];
}

const NOUNS: Record<string, string> = {
  user: 'the person',
  group: 'the group',
  phone: 'the number',
  outbound: 'the outbound settings',
};

const VERBS: Record<string, string> = { created: 'added', updated: 'changed', deleted: 'deleted' };

/** The field that names a record, left out of its lines (the record already says it). */
const KEYS = new Set(['id', 'email']);

type Flat = Map<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{fallback: {type, greeting}}` → `fallback.type`, `fallback.greeting`: nested settings read as one line each. */
function flatten(value: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (isObject(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '(none)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return value.map(show).join(', ') || '(empty)';
  if (isObject(value)) return JSON.stringify(value);
  return String(value);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A list of strings (a group's members): who came, who went, or the new order. */
function listChange(path: string, before: string[], after: string[]): string {
  const added = after.filter((item) => !before.includes(item));
  const removed = before.filter((item) => !after.includes(item));
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`);
  if (parts.length === 0) parts.push(`new order ${after.join(', ')}`);
  return `${path}: ${parts.join('; ')}`;
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** The lines of what changed from `before` to `after` (either may be `null`: created, deleted). */
export function changes(before: unknown, after: unknown): string[] {
  const was = flatten(before);
  const now = flatten(after);
  const paths = [...new Set([...was.keys(), ...now.keys()])].filter((path) => !KEYS.has(path));
  const lines: string[] = [];
  for (const path of paths) {
    const from = was.get(path);
    const to = now.get(path);
    if (same(from, to)) continue;
    if (before === null || before === undefined) lines.push(`${path}: ${show(to)}`);
    else if (after === null || after === undefined) lines.push(`${path}: was ${show(from)}`);
    else if (isStrings(from) && isStrings(to)) lines.push(listChange(path, from, to));
    else if (from === undefined) lines.push(`${path}: set to ${show(to)}`);
    else if (to === undefined) lines.push(`${path}: removed (was ${show(from)})`);
    else lines.push(`${path}: ${show(from)} → ${show(to)}`);
  }
  return lines;
}

/** "Sales (grp-sales)", "Frank Fisher <frank@example.com>": the record's name from either side. */
export function recordName(record: AuditRecordRef, before: unknown, after: unknown): string {
  const named = [after, before].find(isObject);
  const name = named?.name ?? named?.friendlyName;
  if (typeof name !== 'string' || name === '') return record.id;
  return record.kind === 'user' ? `${name} <${record.id}>` : `${name} (${record.id})`;
}

export function describeAudit(entry: AuditEntry): AuditText {
  const [kind = entry.record.kind, verb = ''] = entry.action.split('.');
  const noun = NOUNS[kind] ?? `the ${kind}`;
  const what = kind === 'outbound' ? `${VERBS[verb] ?? verb} ${noun}` : `${VERBS[verb] ?? verb} ${noun} ${recordName(entry.record, entry.before, entry.after)}`;
  return { what, changes: changes(entry.before, entry.after) };
}
