// The Twilio Voice SDK's Device, as the leading tab runs it: created with the first token and
// given each later one, its registration state and errors reported to the lifecycle, and a
// fresh token asked for when it says its token expires or is refused.

import type { PresenceError } from './outcome.js';
import type { TwilioDeviceClass, TwilioDeviceLike, TwilioStatus } from './options.js';

/** Twilio errors that mean the access token is invalid or expired: register again. */
const TOKEN_ERROR_CODES = new Set([20101, 20104, 31204, 31205]);

/** What the Device needs from the lifecycle. */
export interface DeviceHost {
  /** The class to create; default `Device` of `@twilio/voice-sdk`, imported on first use. */
  readonly Device: TwilioDeviceClass | undefined;
  readonly deviceOptions: Record<string, unknown> | undefined;
  /** The Twilio status as last set. */
  status(): TwilioStatus;
  setStatus(status: TwilioStatus): void;
  /** A new Device exists (the app attaches its `incoming` listeners). */
  created(device: TwilioDeviceLike): void;
  /** The Voice SDK could not be loaded. */
  failed(error: PresenceError): void;
  /** Register again for a fresh token. */
  renew(): void;
}

export class TwilioDeviceRunner {
  private _device: TwilioDeviceLike | null = null;

  constructor(private readonly host: DeviceHost) {}

  get device(): TwilioDeviceLike | null {
    return this._device;
  }

  /** Hand `token` to the Device, creating it first if there is none; `current()` false drops a late one. */
  async use(token: string, current: () => boolean): Promise<void> {
    const existing = this._device;
    if (existing && existing.state !== 'destroyed') {
      try {
        existing.updateToken(token);
      } catch {
        // A Device that cannot take the token is replaced below.
        this.destroy();
      }
      if (this._device) return;
    }
    let DeviceClass: TwilioDeviceClass;
    try {
      DeviceClass = this.host.Device ?? (await loadTwilioDevice());
    } catch (cause) {
      this.host.failed({ code: 'twilio_sdk', message: `cannot load @twilio/voice-sdk: ${String(cause)}` });
      return;
    }
    if (!current()) return;
    let device: TwilioDeviceLike;
    try {
      device = new DeviceClass(token, this.host.deviceOptions);
    } catch (cause) {
      this.host.setStatus({ state: undefined, error: { message: String(cause) } });
      return;
    }
    this._device = device;
    this.listen(device);
    this.host.created(device);
    try {
      // Rejects when Twilio cannot be reached; the 'error' and 'unregistered' events say so.
      device.register().catch(() => {});
    } catch {
      // A Device in the wrong state: its own events tell.
    }
  }

  destroy(): void {
    const device = this._device;
    this._device = null;
    if (device && device.state !== 'destroyed') {
      try {
        device.destroy();
      } catch {
        // Already gone.
      }
    }
    const status = this.host.status();
    if (status.state !== undefined || status.error) this.host.setStatus({ state: undefined });
  }

  private listen(device: TwilioDeviceLike): void {
    const mine = () => this._device === device;
    for (const state of ['registered', 'registering', 'unregistered'] as const) {
      device.on(state, () => {
        if (mine()) this.host.setStatus({ state, ...(state === 'registered' ? {} : { error: this.host.status().error }) });
      });
    }
    device.on('error', (error: { code?: number; message?: string } | undefined) => {
      if (!mine()) return;
      this.host.setStatus({
        state: this.host.status().state,
        error: { code: error?.code, message: error?.message ?? String(error) },
      });
      if (error?.code !== undefined && TOKEN_ERROR_CODES.has(error.code)) this.host.renew();
    });
    device.on('tokenWillExpire', () => {
      if (mine()) this.host.renew();
    });
  }
}

async function loadTwilioDevice(): Promise<TwilioDeviceClass> {
  const sdk: { Device: unknown } = await import('@twilio/voice-sdk');
  return sdk.Device as TwilioDeviceClass;
}
