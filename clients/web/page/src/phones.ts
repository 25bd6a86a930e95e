// The settings page's "Your phone numbers" section: the numbers assigned to the user, directly
// or through a group, each with "Simulate an incoming call" (which shows whom a call would ring).

import type { AssignedPhone, UserPhonesResponse } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { $ } from './dom.js';
import { authorized } from './session.js';

interface SimulatedCall {
  outcome: string;
  /** Why nobody rings, when nobody does. */
  reason?: string;
  ringing: string[];
  twiml: string;
}

export class PhonesSection {
  private phones: AssignedPhone[] = [];

  /** `identity()`: the user's Twilio identity, to mark "(you)" among those a call would ring. */
  /** Called when the numbers were read again. */
  changed?: () => void;

  constructor(private readonly identity: () => string | null) {}

  /** The number with this id, if it is the user's. */
  phone(phoneId: string): AssignedPhone | undefined {
    return this.phones.find((phone) => phone.id === phoneId);
  }

  /** The groups that ring the user's numbers, once each. */
  groups(): { id: string; name: string }[] {
    const groups = new Map<string, string>();
    for (const phone of this.phones) {
      if (phone.groupId) groups.set(phone.groupId, phone.groupName ?? phone.groupId);
    }
    return [...groups].map(([id, name]) => ({ id, name }));
  }

  async refresh(): Promise<void> {
    try {
      const { assignedPhones } = await authorized<UserPhonesResponse>('GET', '/phone/user-phones');
      this.render(assignedPhones);
      this.changed?.();
    } catch (error) {
      log(`Cannot load your numbers: ${(error as Error).message}`);
    }
  }

  render(phones: AssignedPhone[]): void {
    this.phones = phones;
    const tbody = $('phone-rows');
    tbody.replaceChildren(
      ...phones.map((phone) => {
        const row = document.createElement('tr');
        row.dataset.phoneId = phone.id;
        const name = document.createElement('th');
        name.scope = 'row';
        name.textContent = phone.friendlyName;
        const number = document.createElement('td');
        number.textContent = phone.phoneNumber;
        const how = document.createElement('td');
        how.textContent = phone.assignment === 'direct' ? 'Directly' : `Through the group ${phone.groupName ?? phone.groupId ?? ''}`;
        const actions = document.createElement('td');
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = 'Simulate an incoming call';
        button.setAttribute('aria-label', `Simulate an incoming call to ${phone.friendlyName} (${phone.phoneNumber})`);
        button.addEventListener('click', () => void this.simulateCall(phone, button));
        actions.append(button);
        row.append(name, number, how, actions);
        return row;
      }),
    );
    $('phones-empty').hidden = phones.length > 0;
  }

  private async simulateCall(phone: AssignedPhone, button: HTMLButtonElement): Promise<void> {
    const result = $('call-result');
    button.disabled = true;
    try {
      const call = await authorized<SimulatedCall>('POST', '/dev/simulate-call', { phoneNumber: phone.phoneNumber });
      const heading = document.createElement('p');
      const title = document.createElement('strong');
      title.textContent = `A call to ${phone.friendlyName} (${phone.phoneNumber})`;
      heading.append(
        title,
        call.ringing.length > 0
          ? ` would ring ${call.ringing.length} identit${call.ringing.length === 1 ? 'y' : 'ies'}:`
          : ` would ring nobody (${call.outcome}${call.reason ? `: ${call.reason}` : ''}).`,
      );
      const list = document.createElement('ul');
      list.className = 'ringing';
      for (const who of call.ringing) {
        const item = document.createElement('li');
        item.textContent = who === this.identity() ? `${who} (you)` : who;
        list.append(item);
      }
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = `TwiML answered to Twilio (${call.outcome})`;
      const pre = document.createElement('pre');
      pre.textContent = call.twiml;
      details.append(summary, pre);
      result.replaceChildren(heading, ...(call.ringing.length > 0 ? [list] : []), details);
      log(`Simulated a call to ${phone.friendlyName}: ${call.outcome}, ${call.ringing.length} ringing.`);
    } catch (error) {
      result.textContent = `Could not simulate the call: ${(error as Error).message}`;
    } finally {
      button.disabled = false;
    }
  }
}
