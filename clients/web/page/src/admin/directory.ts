// The org's directory as last read (`GET /phone/admin/directory`), which the lists show and the
// editors name things by. The editors never save from it: each reads its record again for the
// record's own ETag when opened.

import type { AdminApi } from './api.js';
import type { DirectoryUser, Group, OrgDirectory, Phone } from './model.js';

export class DirectoryState {
  private org: OrgDirectory | null = null;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly api: AdminApi) {}

  /** Reads the org again; rejects with the API's error (403 for someone who is not an admin). */
  async reload(): Promise<void> {
    this.org = (await this.api.directory()).record;
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  get orgId(): string {
    return this.org?.orgId ?? '';
  }

  users(): DirectoryUser[] {
    return this.org?.users ?? [];
  }

  groups(): Group[] {
    return this.org?.groups ?? [];
  }

  phones(): Phone[] {
    return this.org?.phones ?? [];
  }

  /** "Alice Adams", else the email. */
  userName(email: string): string {
    return this.users().find((user) => user.email === email)?.name ?? email;
  }

  groupName(id: string): string {
    return this.groups().find((group) => group.id === id)?.name ?? id;
  }

  /** A `referencedBy` entry (`phone:phone-sales`) in words: "the number Sales (phone-sales)". */
  describeRef(ref: string): string {
    const [kind, ...rest] = ref.split(':');
    const id = rest.join(':');
    if (kind === 'phone') {
      const phone = this.phones().find((p) => p.id === id);
      return phone ? `the number ${phone.friendlyName} (${id})` : `the number ${id}`;
    }
    if (kind === 'group') return `the group ${this.groupName(id)} (${id})`;
    if (kind === 'user') return `${this.userName(id)} (${id})`;
    return ref;
  }
}
