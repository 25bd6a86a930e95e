// The admin console's "Audit log": every change to the org's directory, newest first, a page at
// a time ("Older" follows the server's cursor). Read again after each change made here.

import { $, el, seen } from '../dom.js';
import { AdminError } from './api.js';
import type { AdminApi } from './api.js';
import { describeAudit } from './audit-text.js';
import type { AuditEntry } from './audit-text.js';

const PAGE = 20;

export class AuditSection {
  private cursor: string | null = null;
  /** Reads in flight are numbered: an older answer never lands after a newer reload. */
  private generation = 0;

  constructor(private readonly api: AdminApi) {
    $('audit-older').addEventListener('click', () => void this.older());
  }

  /** The newest page, in place of what is shown. */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    await this.read(null, (entries) => {
      if (generation !== this.generation) return false;
      $('audit-rows').replaceChildren(...entries.map((entry) => this.row(entry)));
      return true;
    });
  }

  private async older(): Promise<void> {
    if (!this.cursor) return;
    const generation = this.generation;
    const button = $<HTMLButtonElement>('audit-older');
    button.disabled = true;
    await this.read(this.cursor, (entries) => {
      if (generation !== this.generation) return false;
      const rows = entries.map((entry) => this.row(entry));
      $('audit-rows').append(...rows);
      // Keyboard users land on the first entry they had not seen.
      rows[0]?.focus();
      return true;
    });
    button.disabled = false;
  }

  /** `show(entries)` answers whether it showed them (not when a newer reload came meanwhile). */
  private async read(before: string | null, show: (entries: AuditEntry[]) => boolean): Promise<void> {
    const error = $('audit-error');
    try {
      const page = await this.api.audit(before, PAGE);
      if (show(page.entries)) this.cursor = page.cursor;
      error.hidden = true;
    } catch (e) {
      error.textContent = `Cannot read the audit log: ${e instanceof AdminError ? e.message : (e as Error).message}`;
      error.hidden = false;
    }
    $('audit-older').hidden = this.cursor === null;
    $('audit-empty').hidden = $('audit-rows').childElementCount > 0;
  }

  private row(entry: AuditEntry): HTMLLIElement {
    const { what, changes } = describeAudit(entry);
    const row = el('li', 'audit-entry');
    row.tabIndex = -1;
    row.dataset.action = entry.action;
    row.dataset.record = `${entry.record.kind}:${entry.record.id}`;
    const time = el('time', 'audit-when', seen(entry.at));
    time.dateTime = new Date(entry.at).toISOString();
    const line = el('p', 'audit-what');
    line.append(time, ' ', el('strong', 'audit-actor', entry.actor), ` ${what}`);
    row.append(line);
    if (changes.length > 0) {
      const list = el('ul', 'audit-changes');
      for (const change of changes) list.append(el('li', '', change));
      row.append(list);
    }
    return row;
  }
}
