// A stand-in for the Twilio Device, for browser tests and demos on a machine that cannot reach
// Twilio. Chosen with `?device=fake` (registers with "Twilio" after a moment) or
// `?device=fake-offline` (reports the error a Device reports when Twilio is unreachable).
import type { TwilioDeviceLike } from '../../src/softphone-presence.js';

type Listener = (...args: unknown[]) => void;

export function fakeDeviceClass(mode: 'fake' | 'fake-offline') {
  return class FakeDevice implements TwilioDeviceLike {
    state = 'unregistered';
    token: string;
    private readonly listeners = new Map<string, Listener[]>();

    constructor(token: string) {
      this.token = token;
    }

    on(event: string, listener: Listener): this {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
      return this;
    }

    private emit(event: string, ...args: unknown[]): void {
      for (const listener of this.listeners.get(event) ?? []) listener(...args);
    }

    private setState(state: string): void {
      this.state = state;
      this.emit(state);
    }

    async register(): Promise<void> {
      this.setState('registering');
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (this.state !== 'registering') return;
      if (mode === 'fake') {
        this.setState('registered');
        return;
      }
      this.emit('error', { code: 53000, message: 'Signaling connection error (fake Device, offline)' });
      this.setState('unregistered');
      throw new Error('fake Device: Twilio unreachable');
    }

    updateToken(token: string): void {
      if (this.state === 'destroyed') throw new Error('Attempt to "updateToken" when device is in state "destroyed".');
      this.token = token;
    }

    destroy(): void {
      this.setState('destroyed');
      this.listeners.clear();
    }
  };
}
