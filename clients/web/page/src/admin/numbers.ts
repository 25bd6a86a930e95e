// The admin console's "Numbers" section: the org's phone numbers; for one, whom it rings (a
// person or a group), its name, its voicemail greeting and where its texts are forwarded. The
// numbers themselves are bought in Twilio, so the console edits them but neither adds nor
// deletes any.

import { $, el, keyedRows } from '../dom.js';
import type { AdminApi } from './api.js';
import type { DirectoryState } from './directory.js';
import { RecordEditor } from './editor.js';
import { phoneBody, phoneForm, whoOf } from './model.js';
import type { Phone, Who } from './model.js';

const label = (phone: Phone | null, id: string): string => phone?.friendlyName || id;

export class NumbersSection {
  private readonly editor: RecordEditor<'phones'>;

  constructor(
    private readonly directory: DirectoryState,
    api: AdminApi,
    changed: () => Promise<void>,
    signedOut: () => void,
  ) {
    this.editor = new RecordEditor({
      kind: 'phones',
      api,
      directory,
      form: $<HTMLFormElement>('phone-editor'),
      alert: $('phone-error'),
      status: $('numbers-status'),
      name: label,
      show: (phone) => this.show(phone),
      changed,
      signedOut,
    });
    $('phone-close').addEventListener('click', () => {
      const key = this.editor.key;
      this.editor.close();
      $('phone-rows').querySelector<HTMLElement>(`li[data-phone-id="${CSS.escape(key ?? '')}"] button`)?.focus();
    });
    $<HTMLFormElement>('phone-editor').addEventListener('submit', (event) => {
      event.preventDefault();
      const previous = this.editor.record;
      if (!previous || this.editor.key === null) return;
      const body = phoneBody(previous, {
        who: $<HTMLSelectElement>('phone-who').value as Who,
        friendlyName: $<HTMLInputElement>('phone-friendly-name').value,
        greeting: $<HTMLInputElement>('phone-greeting').value,
        forwardTo: $<HTMLInputElement>('phone-forward').value,
      });
      void this.editor.save(this.editor.key, body);
    });
    directory.onChange(() => this.render());
  }

  /** "Alice Adams", "the group Sales". */
  private whom(phone: Phone): string {
    return phone.groupId !== undefined ? `the group ${this.directory.groupName(phone.groupId)}` : this.directory.userName(phone.userEmail ?? '');
  }

  private render(): void {
    const phones = this.directory.phones();
    keyedRows(
      $('phone-rows'),
      'phone-id',
      phones,
      (phone) => phone.id,
      () => {
        const row = el('li', 'record');
        const edit = el('button', 'record-edit', 'Edit');
        edit.type = 'button';
        edit.addEventListener('click', () => void this.editor.open(row.dataset.phoneId ?? ''));
        row.append(el('span', 'record-name'), el('span', 'record-detail muted'), edit);
        return row;
      },
      (row, phone) => {
        const forward = phone.sms?.forwardTo ? ` · texts forwarded to ${phone.sms.forwardTo}` : '';
        row.querySelector('.record-name')!.textContent = phone.friendlyName;
        row.querySelector('.record-detail')!.textContent = `${phone.phoneNumber} · rings ${this.whom(phone)}${forward}`;
        row.querySelector('.record-edit')!.setAttribute('aria-label', `Edit the number ${phone.friendlyName} (${phone.phoneNumber})`);
      },
    );
    $('phones-empty').hidden = phones.length > 0;
  }

  private show(phone: Phone | null): void {
    if (!phone) return;
    const form = phoneForm(phone);
    $('phone-editor-title').textContent = `Edit ${phone.friendlyName} (${phone.phoneNumber})`;
    // Whom it can ring: the org's people and groups, and whoever it rings now even if the list
    // read earlier does not have them yet.
    const people = el('optgroup');
    people.label = 'People';
    const groups = el('optgroup');
    groups.label = 'Groups';
    const option = (value: Who, text: string): HTMLOptionElement => {
      const o = el('option', '', text);
      o.value = value;
      return o;
    };
    for (const user of this.directory.users()) people.append(option(`user:${user.email}`, user.name ? `${user.name} (${user.email})` : user.email));
    for (const group of this.directory.groups()) groups.append(option(`group:${group.id}`, `${group.name} (group)`));
    const select = $<HTMLSelectElement>('phone-who');
    select.replaceChildren(people, groups);
    const current = whoOf(phone);
    if (![...select.options].some((o) => o.value === current)) {
      (phone.groupId !== undefined ? groups : people).append(option(current, current.slice(current.indexOf(':') + 1)));
    }
    select.value = current;
    $<HTMLInputElement>('phone-friendly-name').value = form.friendlyName;
    $<HTMLInputElement>('phone-greeting').value = form.greeting;
    $<HTMLInputElement>('phone-forward').value = form.forwardTo;
  }
}
