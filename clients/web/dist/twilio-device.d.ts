import type { PresenceError } from './outcome.js';
import type { TwilioDeviceClass, TwilioDeviceLike, TwilioStatus } from './options.js';
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
export declare class TwilioDeviceRunner {
    private readonly host;
    private _device;
    constructor(host: DeviceHost);
    get device(): TwilioDeviceLike | null;
    /** Hand `token` to the Device, creating it first if there is none; `current()` false drops a late one. */
    use(token: string, current: () => boolean): Promise<void>;
    destroy(): void;
    private listen;
}
