// The admin console's "People" section: the org's users (`{email, name?}`), adding one, naming
// one, deleting one (refused with 409 while a group or a number still names them).

import { $, el, keyedRows } from '../dom.js';
import type { AdminApi } from './api.js';
import type { DirectoryState } from './directory.js';
import { RecordEditor } from './editor.js';
import { userBody } from './model.js';
import type { DirectoryUser } from './model.js';

const label = (user: DirectoryUser | null, email: string): string => user?.name || email;

export class PeopleSection {
  private readonly editor: RecordEditor<'users'>;

  constructor(
    private readonly directory: DirectoryState,
    api: AdminApi,
    changed: () => Promise<void>,
    signedOut: () => void,
  ) {
    this.editor = new RecordEditor({
      kind: 'users',
      api,
      directory,
      form: $<HTMLFormElement>('person-editor'),
      alert: $('person-error'),
      status: $('people-status'),
      name: label,
      show: (user) => this.show(user),
      changed,
      signedOut,
    });
    this.editor.bindButtons({ add: 'person-add', close: 'person-close', remove: 'person-delete' });
    $<HTMLFormElement>('person-editor').addEventListener('submit', (event) => {
      event.preventDefault();
      const email = $<HTMLInputElement>('person-email').value.trim().toLowerCase();
      const body = userBody(this.editor.record, email, $<HTMLInputElement>('person-name').value);
      void this.editor.save(this.editor.key ?? email, body);
    });
    directory.onChange(() => this.render());
  }

  private render(): void {
    const users = this.directory.users();
    keyedRows(
      $('people-rows'),
      'email',
      users,
      (user) => user.email,
      () => {
        const row = el('li', 'record');
        const edit = el('button', 'record-edit', 'Edit');
        edit.type = 'button';
        edit.addEventListener('click', () => void this.editor.open(row.dataset.email ?? ''));
        row.append(el('span', 'record-name'), el('span', 'record-detail muted'), edit);
        return row;
      },
      (row, user) => {
        row.querySelector('.record-name')!.textContent = user.name ?? user.email;
        row.querySelector('.record-detail')!.textContent = user.name ? user.email : '';
        row.querySelector('.record-edit')!.setAttribute('aria-label', `Edit ${label(user, user.email)}`);
      },
    );
    $('people-empty').hidden = users.length > 0;
  }

  private show(user: DirectoryUser | null): void {
    const email = $<HTMLInputElement>('person-email');
    email.value = user?.email ?? '';
    // The email is the record's key: a new one is another person.
    email.readOnly = user !== null;
    $<HTMLInputElement>('person-name').value = user?.name ?? '';
    $('person-editor-title').textContent = user ? `Edit ${label(user, user.email)}` : 'Add a person';
    $('person-delete').hidden = user === null;
  }
}
