// The settings page's "Your phone numbers" section: the numbers assigned to the user, directly
// or through a group, each with "Simulate an incoming call" (which shows whom a call would ring).

import type { AssignedPhone, UserPhonesResponse } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { $ } from './dom.js';
import { authorized } from './session.js';

/** How a number's calls are rung (`POST /dev/simulate-call`'s `policy`). */
interface Policy {
  hours: { timeZone: string; of: 'phone' | 'group'; openNow: boolean } | null;
  group: {
    name: string;
    strategy: 'simultaneous' | 'sequential' | 'roundRobin' | 'longestIdle';
    ringTimeoutSeconds: number;
    memberRingSeconds: number;
    batchSize: number;
  } | null;
}

interface SimulatedCall {
  outcome: string;
  /** Why nobody rings, when nobody does. */
  reason?: string;
  ringing: string[];
  twiml: string;
  policy: Policy | null;
  /** Each step a call nobody answers goes through: whom it rings, for how long. */
  steps: { ringing: string[]; seconds: number }[];
}

const STRATEGIES: Record<NonNullable<Policy['group']>['strategy'], string> = {
  simultaneous: 'rings its members all at once',
  sequential: 'rings its members one after another, in the listed order',
  roundRobin: 'rings its members in turn, each call starting one member further',
  longestIdle: 'rings whoever has waited longest since their last call first',
};

/** "Open now (America/New_York, the group's hours). Sales rings its members all at once …". */
function describePolicy(policy: Policy | null): string {
  if (!policy) return '';
  const parts: string[] = [];
  if (policy.hours) {
    const whose = policy.hours.of === 'phone' ? "the number's hours" : "the group's hours";
    parts.push(`${policy.hours.openNow ? 'Open now' : 'Closed now'} (${policy.hours.timeZone}, ${whose}).`);
  } else {
    parts.push('Open at all hours.');
  }
  const group = policy.group;
  if (group) {
    const batch = group.batchSize > 1 ? `, ${group.batchSize} at a time` : '';
    const each = group.strategy === 'simultaneous' ? '' : `${batch}, ${group.memberRingSeconds} s each`;
    parts.push(`${group.name} ${STRATEGIES[group.strategy]}${each}, for at most ${group.ringTimeoutSeconds} s in all.`);
  }
  return parts.join(' ');
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
      this.update(assignedPhones);
    } catch (error) {
      log(`Cannot load your numbers: ${(error as Error).message}`);
    }
  }

  /** A new list of the user's numbers (read, or pushed by `phones.changed`): shown, and the team's groups follow it. */
  update(phones: AssignedPhone[]): void {
    this.render(phones);
    this.changed?.();
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
      const you = (who: string): string => (who === this.identity() ? `${who} (you)` : who);
      const list = document.createElement('ul');
      list.className = 'ringing';
      for (const who of call.ringing) {
        const item = document.createElement('li');
        item.textContent = you(who);
        list.append(item);
      }
      const policy = document.createElement('p');
      policy.className = 'call-policy';
      policy.textContent = describePolicy(call.policy);
      // A call that rings in steps: every step it would go through if nobody answered.
      const steps = document.createElement('ol');
      steps.className = 'call-steps';
      steps.setAttribute('aria-label', 'Steps of ringing if nobody answers');
      for (const step of call.steps.length > 1 ? call.steps : []) {
        const item = document.createElement('li');
        item.textContent = `${step.ringing.map(you).join(', ')} for ${step.seconds} s`;
        steps.append(item);
      }
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = `TwiML answered to Twilio (${call.outcome})`;
      const pre = document.createElement('pre');
      pre.textContent = call.twiml;
      details.append(summary, pre);
      result.replaceChildren(
        heading,
        ...(call.ringing.length > 0 ? [list] : []),
        policy,
        ...(steps.childElementCount > 0 ? [steps] : []),
        details,
      );
      log(`Simulated a call to ${phone.friendlyName}: ${call.outcome}, ${call.ringing.length} ringing.`);
    } catch (error) {
      result.textContent = `Could not simulate the call: ${(error as Error).message}`;
    } finally {
      button.disabled = false;
    }
  }
}
