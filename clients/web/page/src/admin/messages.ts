// What the console tells an admin when the server refuses a change, in words that say what
// happened and what to do next. Pure (no DOM, no fetch), so the unit tests read the same text.

/** The parts of an `AdminError` (api.ts) a message needs. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  problems: { path: string; message: string }[];
  referencedBy: string[];
}

/** What was being done: reading a record, saving a new one, saving over one, deleting one. */
export type Attempt = 'open' | 'create' | 'save' | 'delete';

export interface Failure {
  text: string;
  /** Lines under it: the directory's problems, each with its path. */
  lines: string[];
  /** Offer "Reload": the record changed under the form, and reading it again is the way on. */
  reload: boolean;
}

/** "a and b", "a, b and c". */
export function and(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * `name`: the record as the admin knows it ("Sales"); `describeRef` names a `referencedBy`
 * entry ("the number Sales (phone-sales)").
 */
export function failure(refusal: Refusal, attempt: Attempt, name: string, describeRef: (ref: string) => string): Failure {
  const plain = (text: string): Failure => ({ text, lines: [], reload: false });
  switch (refusal.status) {
    case 412:
      // Never retried with the stale version: the other admin's change stays, and the admin
      // sees it before making theirs again.
      return attempt === 'create'
        ? { text: `Someone else already added ${name}. Reload to see it, then make your change again.`, lines: [], reload: true }
        : {
            text: `Someone else changed ${name} since you opened it. Reload to see their change, then make yours again.`,
            lines: [],
            reload: true,
          };
    case 404:
      return plain(attempt === 'open' ? `${name} is not in the directory (any more).` : `${name} is gone: someone else deleted it since you opened it.`);
    case 409: {
      const refs = refusal.referencedBy.map(describeRef);
      if (refs.length === 0) return plain(`${name} cannot be deleted: ${refusal.message}`);
      const them = refs.length === 1 ? 'it' : 'them';
      return plain(`${name} cannot be deleted: ${and(refs)} still ${refs.length === 1 ? 'uses' : 'use'} it. Change ${them} first.`);
    }
    case 400:
      if (refusal.problems.length > 0) {
        return {
          text: `${name} was not saved: the directory would not be valid.`,
          lines: refusal.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)),
          reload: false,
        };
      }
      return plain(`${name} was not saved: ${refusal.message}`);
    case 401:
      return plain('Your sign-in has expired. Sign in again.');
    case 403:
      return plain('You are not an admin of this org: you cannot change its directory.');
    case 428:
      return plain(`${name} was not saved: the server asked which version it replaces (${refusal.message}).`);
    default: {
      const verb = attempt === 'open' ? 'read' : attempt === 'delete' ? 'delete' : 'save';
      return plain(`Could not ${verb} ${name}: ${refusal.message}${refusal.status ? ` (${refusal.status})` : ''}.`);
    }
  }
}
