// The settings page's "Your devices" section: the user's live devices, each with a "Sign out"
// button, and whether the user is on a call. Changed by the server's events (a devices.changed
// fetches the list again; call.state legs are kept by CallSid); nothing polls.

import type { CallStateEvent, DevicesResponse, SoftphonePresence, StoredDevice } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { $, seen } from './dom.js';
import { authorized, session } from './session.js';

const PLATFORMS: Record<string, string> = { web: 'Web', ios: 'iOS', android: 'Android' };

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "2 days ago": a phone asleep was last opened minutes to days ago, which a time of day hides. */
function ago(epochMs: number): string {
  const minutes = Math.round((epochMs - Date.now()) / 60_000);
  if (Math.abs(minutes) < 60) return RELATIVE.format(minutes, 'minute');
  if (Math.abs(minutes) < 48 * 60) return RELATIVE.format(Math.round(minutes / 60), 'hour');
  return RELATIVE.format(Math.round(minutes / (24 * 60)), 'day');
}

/**
 * When a device was last heard from (a time, not "N s ago": heartbeats are no events, so the
 * list is not refetched for them); for a phone asleep, that Twilio's push still reaches it.
 */
function lastSeenText(device: StoredDevice): string {
  return device.reachability === 'push' ? `Reachable by push, last opened ${ago(device.lastSeen)}` : seen(device.lastSeen);
}

function deviceName(device: StoredDevice): string {
  return device.label ?? device.deviceId;
}

export class DevicesSection {
  /** The user's Twilio identity, from the last list. */
  identity: string | null = null;
  private readonly current = new Map<string, StoredDevice>();
  private refreshing = false;
  private refreshAgain = false;
  // The list says whether the user is on a call (any leg); each call.state event is about one
  // leg. The user is on a call while any leg is: legs named by events, by CallSid, and one the
  // last list counted that no event has named yet.
  private readonly callLegs = new Map<string, { since: number; learnt: number }>();
  private unnamedCallSince: number | null = null;

  constructor(
    private readonly presence: SoftphonePresence,
    /** After every refresh (the presence section shows what the list says of this browser). */
    private readonly refreshed: () => void,
  ) {}

  /** "This browser" or the device's label, for the activity log. */
  who(deviceId: string): string {
    return deviceId === this.presence.deviceId ? 'This browser' : `Device ${this.current.get(deviceId)?.label ?? deviceId}`;
  }

  /** GET the device list (and the call state with it); one more time if asked for meanwhile. */
  async refresh(): Promise<void> {
    if (!session()) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.refreshAgain = false;
        await this.load();
      } while (this.refreshAgain && session());
    } finally {
      this.refreshing = false;
      this.refreshed();
    }
  }

  onCallState({ at, data: { callSid, onCall, onCallSince } }: CallStateEvent): void {
    if (onCall) {
      this.callLegs.set(callSid, { since: onCallSince ?? at, learnt: Date.now() });
    } else {
      this.callLegs.delete(callSid);
      // The list counted a call no event named: was it this one?
      if (this.unnamedCallSince !== null) void this.refresh();
    }
    this.renderCallState();
  }

  private async load(): Promise<void> {
    try {
      const asked = Date.now();
      const list = await authorized<DevicesResponse>('GET', '/phone/voice/devices');
      this.identity = list.identity;
      this.current.clear();
      for (const device of list.devices) this.current.set(device.deviceId, device);
      this.render(list);
      this.applyListCallState(list, asked);
      $('devices-error').hidden = true;
    } catch (error) {
      const errorElement = $('devices-error');
      errorElement.textContent = `Cannot load your devices: ${(error as Error).message}`;
      errorElement.hidden = false;
    }
  }

  private async signOut(device: StoredDevice, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      if (device.deviceId === this.presence.deviceId) {
        await this.presence.signOut();
      } else {
        await authorized('POST', '/phone/voice/unregister-device', { deviceId: device.deviceId, signOut: true });
      }
      log(`Signed out ${deviceName(device)}.`);
    } catch (error) {
      log(`Could not sign out ${deviceName(device)}: ${(error as Error).message}`);
    } finally {
      button.disabled = false;
      void this.refresh();
    }
  }

  /** Rows are kept per device id, so a refresh never takes keyboard focus away from a button. */
  private render(list: DevicesResponse): void {
    const tbody = $('device-rows');
    const rows = new Map<string, HTMLTableRowElement>();
    for (const row of tbody.querySelectorAll<HTMLTableRowElement>('tr[data-device-id]')) {
      rows.set(row.dataset.deviceId ?? '', row);
    }
    const keep = new Set<string>();
    let previous: HTMLTableRowElement | null = null;
    for (const device of list.devices) {
      keep.add(device.deviceId);
      const row = rows.get(device.deviceId) ?? this.newRow(device.deviceId);
      const [nameCell, platformCell, seenCell, twilioCell, actionCell] = [...row.cells];
      const mine = device.deviceId === this.presence.deviceId;
      nameCell!.textContent = deviceName(device);
      if (mine) {
        const marker = document.createElement('span');
        marker.className = 'this-device';
        marker.textContent = 'this device';
        nameCell!.append(marker);
      }
      platformCell!.textContent = PLATFORMS[device.platform] ?? device.platform;
      seenCell!.textContent = lastSeenText(device);
      row.dataset.reachability = device.reachability;
      twilioCell!.textContent = device.twilioState ?? '—';
      actionCell!.querySelector('button')!.setAttribute('aria-label', `Sign out ${deviceName(device)}${mine ? ' (this device)' : ''}`);
      row.classList.toggle('mine', mine);
      const anchor: ChildNode | null = previous ? previous.nextSibling : tbody.firstChild;
      if (row !== anchor) tbody.insertBefore(row, anchor);
      previous = row;
    }
    for (const [id, row] of rows) if (!keep.has(id)) row.remove();
    $('devices-empty').hidden = list.devices.length > 0;
  }

  private newRow(deviceId: string): HTMLTableRowElement {
    const row = document.createElement('tr');
    row.dataset.deviceId = deviceId;
    const name = document.createElement('th');
    name.scope = 'row';
    row.append(name, document.createElement('td'), document.createElement('td'), document.createElement('td'));
    const actions = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Sign out';
    button.addEventListener('click', () => {
      const current = this.current.get(row.dataset.deviceId ?? '');
      if (current) void this.signOut(current, button);
    });
    actions.append(button);
    row.append(actions);
    return row;
  }

  /** The list as of `asked` (when it was requested): legs learnt before then it has the last word on. */
  private applyListCallState(list: DevicesResponse, asked: number): void {
    if (!list.onCall) {
      for (const [sid, leg] of this.callLegs) if (leg.learnt < asked) this.callLegs.delete(sid);
      this.unnamedCallSince = null;
    } else {
      const earliest = Math.min(...[...this.callLegs.values()].map((leg) => leg.since));
      const since = list.onCallSince ?? Date.now();
      this.unnamedCallSince = this.callLegs.size === 0 || since < earliest ? since : null;
    }
    this.renderCallState();
  }

  private renderCallState(): void {
    const starts = [...this.callLegs.values()].map((leg) => leg.since);
    if (this.unnamedCallSince !== null) starts.push(this.unnamedCallSince);
    const element = $('on-call');
    element.dataset.onCall = String(starts.length > 0);
    element.textContent =
      starts.length > 0 ? `On a call since ${new Date(Math.min(...starts)).toLocaleTimeString()}.` : 'Not on a call.';
  }
}
