export type Capability = 'voice' | 'sms';
/** What the Twilio `Device` says about its own registration with Twilio. */
export type TwilioState = 'registered' | 'registering' | 'unregistered';
/**
 * How a call reaches a listed device: `online` (heard from within its foreground TTL), or `push`
 * (a phone whose app was last opened longer ago, reached through its Twilio push registration).
 */
export type Reachability = 'online' | 'push';
export interface PresenceSettings {
    /** How long a device stays live without a heartbeat. */
    ttlSeconds: number;
    /** How often to heartbeat (two thirds of the TTL). */
    heartbeatIntervalSeconds: number;
    /** Where to send heartbeats instead of the API's own path (the heartbeat function's URL in AWS). */
    heartbeatUrl?: string;
    /**
     * Socket presence: while the realtime channel is open the device is live without heartbeats;
     * ping it every `keepAliveSeconds`; a close leaves it live `graceSeconds` more. Absent from a
     * server without it: heartbeat throughout.
     */
    socket?: SocketPresence;
}
export interface SocketPresence {
    keepAliveSeconds: number;
    graceSeconds: number;
}
export interface StoredDevice {
    deviceId: string;
    identity?: string;
    platform: 'web' | 'ios' | 'android';
    label?: string;
    capabilities: Capability[];
    userAgent?: string;
    /** Epoch milliseconds. */
    lastSeen: number;
    /** Epoch seconds: the device is live until then. */
    expiresAt: number;
    twilioState?: TwilioState;
    reachability: Reachability;
    /** A phone's alert registration: its provider and the token's last characters only. */
    notifications?: {
        provider: 'apns' | 'apns-sandbox' | 'fcm';
        tokenSuffix: string;
    };
}
export interface AssignedPhone {
    id: string;
    phoneNumber: string;
    friendlyName: string;
    assignment: 'direct' | 'group';
    groupId?: string;
    groupName?: string;
}
export interface RegisterResponse {
    identity: string;
    /** The Twilio voice access token. */
    token: string;
    expiresIn: number;
    /** New on every register; an unregister carrying an older one is ignored by the server. */
    registrationId?: string;
    assignedPhones: AssignedPhone[];
    device: StoredDevice;
    presence: PresenceSettings;
    evictedDeviceIds: string[];
}
export interface HeartbeatResponse {
    device: StoredDevice;
    presence: PresenceSettings;
}
export interface DevicesResponse {
    identity: string;
    devices: StoredDevice[];
    onCall: boolean;
    onCallSince: number | null;
}
export interface UserPhonesResponse {
    assignedPhones: AssignedPhone[];
}
/** Errors the service produces; API Gateway's own errors carry only `message`. */
export interface ErrorBody {
    error?: {
        code: string;
        message: string;
        field?: string;
        reason?: string;
    };
    message?: string;
}
/** `GET /phone/events`: the events after `after`, oldest first, and where to resume. */
export interface EventsResponse {
    events: unknown[];
    cursor: string;
    /** The page was full (before leaving out what this device is not given): catch up again. */
    more?: boolean;
}
/** `POST /phone/events/ticket`: what to open the realtime channel with, within `expiresIn` seconds. */
export interface TicketResponse {
    ticket: string;
    /** `wss://…` in AWS (the stack's `RealtimeUrl`), `ws://host/phone/events/connect` locally. */
    url: string;
    expiresIn: number;
}
export declare const PATHS: {
    readonly register: '/phone/voice/register-device';
    readonly heartbeat: '/phone/voice/heartbeat';
    readonly unregister: '/phone/voice/unregister-device';
    readonly devices: '/phone/voice/devices';
    readonly userPhones: '/phone/user-phones';
    readonly events: '/phone/events';
    readonly ticket: '/phone/events/ticket';
    readonly smsConversations: '/phone/sms/conversations';
    readonly smsMessages: '/phone/sms/messages';
    readonly smsRead: '/phone/sms/read';
    readonly smsSend: '/phone/sms/send';
    readonly smsMedia: '/phone/sms/media';
    readonly calls: '/phone/calls';
    readonly callsSeen: '/phone/calls/seen';
    /** `/{recordingSid}` follows. */
    readonly voicemail: '/phone/voicemail';
    readonly presenceStatus: '/phone/presence/status';
    readonly team: '/phone/team';
};
