// One record's editor, whatever its kind: opening reads the record with its ETag; saving sends
// it back with `If-Match` (or `If-None-Match: *` for a new one), deleting with `If-Match`. A
// refusal is shown in the editor's alert, with "Reload" when the record changed under the form
// (412): the page never retries a write with a stale version, so nothing another admin saved is
// overwritten; the admin reads their change and makes theirs again.

import { $, el } from '../dom.js';
import { AdminError } from './api.js';
import type { AdminApi } from './api.js';
import type { DirectoryState } from './directory.js';
import { failure } from './messages.js';
import type { Attempt, Refusal } from './messages.js';
import type { Kind, RecordOf } from './model.js';

export interface EditorParts<K extends Kind> {
  kind: K;
  api: AdminApi;
  directory: DirectoryState;
  /** The editor's form: shown while a record is open. */
  form: HTMLFormElement;
  /** Its role="alert" element: refusals. */
  alert: HTMLElement;
  /** The section's role="status" element: "Saved Sales." */
  status: HTMLElement;
  /** How the admin knows the record: "Sales", "Frank Fisher"; `key` for a record not read. */
  name: (record: RecordOf[K] | null, key: string) => string;
  /** Fill the form with `record`, or empty for a new one (`null`). */
  show: (record: RecordOf[K] | null) => void;
  /** After every stored change: the lists and the audit log read again. */
  changed: () => Promise<void>;
  /** The server refused the token (401): back to the sign-in. */
  signedOut: () => void;
}

export class RecordEditor<K extends Kind> {
  /** The key of the record open, `null` while a new one is being made. */
  key: string | null = null;
  record: RecordOf[K] | null = null;
  private etag: string | null = null;
  private busy = false;

  constructor(private readonly parts: EditorParts<K>) {}

  get isOpen(): boolean {
    return !this.parts.form.hidden;
  }

  /** Reads the record (and its ETag) and shows it; focus goes to the form. */
  async open(key: string): Promise<void> {
    try {
      const { record, etag } = await this.parts.api.get(this.parts.kind, key);
      // Only now: a "Reload" alert stays until the record read again replaces the stale form.
      this.clear();
      this.key = key;
      this.record = record;
      this.etag = etag;
      this.parts.form.hidden = false;
      this.parts.show(record);
      this.focusFirstField();
    } catch (error) {
      // Nothing to edit: the form closes (it would show another record's fields), and the
      // section's status says why.
      this.close();
      const refusal = this.refusal(error);
      if (refusal.status === 401) return this.parts.signedOut();
      const { text } = failure(refusal, 'open', key, (ref) => this.parts.directory.describeRef(ref));
      this.parts.status.textContent = text;
      this.parts.status.dataset.tone = 'error';
      if (refusal.status === 404) void this.parts.changed();
    }
  }

  /**
   * A section's "Add", "Close" and "Delete" buttons, by id: closing gives the focus back to
   * "Add", where the keyboard was before the form opened.
   */
  bindButtons(ids: { add: string; close: string; remove: string }): void {
    $(ids.add).addEventListener('click', () => this.create());
    $(ids.close).addEventListener('click', () => {
      this.close();
      $(ids.add).focus();
    });
    $(ids.remove).addEventListener('click', () => void this.remove());
  }

  /** An empty form for a new record. */
  create(): void {
    this.clear();
    this.key = null;
    this.record = null;
    this.etag = null;
    this.parts.form.hidden = false;
    this.parts.show(null);
    this.focusFirstField();
  }

  close(): void {
    this.clear();
    this.parts.form.hidden = true;
    this.key = null;
    this.record = null;
    this.etag = null;
  }

  /** Stores `body` under `key`: a replace of the version read, or a create. */
  async save(key: string, body: RecordOf[K]): Promise<boolean> {
    if (this.busy) return false;
    const attempt: Attempt = this.etag ? 'save' : 'create';
    const name = this.parts.name(this.record, key);
    this.busy = true;
    this.clear();
    try {
      const precondition = this.etag ? { ifMatch: this.etag } : { ifNoneMatch: '*' as const };
      const stored = await this.parts.api.put(this.parts.kind, key, body, precondition);
      this.key = key;
      this.record = stored.record;
      this.etag = stored.etag;
      this.parts.show(stored.record);
      this.parts.status.textContent = `Saved ${this.parts.name(stored.record, key)}.`;
      await this.parts.changed();
      return true;
    } catch (error) {
      this.fail(error, attempt, this.key ?? key, name);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Deletes the version read; the form closes when it is gone. */
  async remove(): Promise<boolean> {
    if (this.busy || this.key === null || this.etag === null) return false;
    const key = this.key;
    const name = this.parts.name(this.record, key);
    this.busy = true;
    this.clear();
    try {
      await this.parts.api.remove(this.parts.kind, key, this.etag);
      this.close();
      this.parts.status.textContent = `Deleted ${name}.`;
      await this.parts.changed();
      return true;
    } catch (error) {
      this.fail(error, 'delete', key, name);
      return false;
    } finally {
      this.busy = false;
    }
  }

  private clear(): void {
    this.parts.alert.hidden = true;
    this.parts.alert.replaceChildren();
    this.parts.status.textContent = '';
    delete this.parts.status.dataset.tone;
  }

  private refusal(error: unknown): Refusal {
    return error instanceof AdminError
      ? error
      : { status: 0, code: 'network', message: `the server could not be reached (${(error as Error).message})`, problems: [], referencedBy: [] };
  }

  private focusFirstField(): void {
    this.parts.form.querySelector<HTMLElement>('input:not([readonly]):not([type="hidden"]), select, textarea')?.focus();
  }

  /** Shows why a save or a delete did not work; `key` is what "Reload" reads again. */
  private fail(error: unknown, attempt: Exclude<Attempt, 'open'>, key: string, name: string): void {
    const refusal = this.refusal(error);
    if (refusal.status === 401) return this.parts.signedOut();
    const { text, lines, reload } = failure(refusal, attempt, name, (ref) => this.parts.directory.describeRef(ref));
    const alert = this.parts.alert;
    alert.replaceChildren(el('p', '', text));
    if (lines.length > 0) {
      const list = el('ul', 'problems');
      for (const line of lines) list.append(el('li', '', line));
      alert.append(list);
    }
    if (reload) {
      const button = el('button', '', 'Reload');
      button.type = 'button';
      button.addEventListener('click', () => void this.open(key));
      alert.append(button);
    }
    alert.hidden = false;
    // Lists may be out of date too (a record deleted or added by someone else).
    if (refusal.status === 404 || refusal.status === 412) void this.parts.changed();
  }
}
