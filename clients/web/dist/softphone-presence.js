// src/emitter.ts
var Emitter = class {
  handlers = /* @__PURE__ */ new Map();
  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => this.off(type, handler);
  }
  off(type, handler) {
    this.handlers.get(type)?.delete(handler);
  }
  emit(type, payload) {
    for (const handler of [...this.handlers.get(type) ?? []]) {
      try {
        handler(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
};

// src/environment.ts
function browserStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
function uuidV4(random) {
  const hex = [...Array(32)].map(() => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = (parseInt(hex[16] ?? "0", 16) & 3 | 8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
function browserEnvironment() {
  const g = globalThis;
  const nav = g.navigator;
  return {
    fetch: (url, init) => g.fetch(url, init),
    storage: browserStorage(),
    locks: nav?.locks ?? null,
    BroadcastChannel: g.BroadcastChannel ?? null,
    page: g.window ?? null,
    now: () => Date.now(),
    setTimeout: (callback, ms) => g.setTimeout(callback, ms),
    clearTimeout: (handle) => g.clearTimeout(handle),
    random: () => Math.random(),
    randomUUID: () => typeof g.crypto?.randomUUID === "function" ? g.crypto.randomUUID() : uuidV4(Math.random),
    userAgent: nav?.userAgent ?? ""
  };
}
function labelFromUserAgent(userAgent) {
  const browser = /Edg\//.test(userAgent) ? "Edge" : /OPR\//.test(userAgent) ? "Opera" : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Safari\//.test(userAgent) ? "Safari" : "Web browser";
  const os = /Android/.test(userAgent) ? "Android" : /iPhone|iPad|iPod/.test(userAgent) ? "iOS" : /Mac OS X|Macintosh/.test(userAgent) ? "macOS" : /Windows/.test(userAgent) ? "Windows" : /CrOS/.test(userAgent) ? "ChromeOS" : /Linux/.test(userAgent) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

// src/api.ts
var PATHS = {
  register: "/phone/voice/register-device",
  heartbeat: "/phone/voice/heartbeat",
  unregister: "/phone/voice/unregister-device",
  devices: "/phone/voice/devices",
  userPhones: "/phone/user-phones"
};

// src/softphone-presence.ts
var TRANSITIONS = {
  stopped: ["starting"],
  starting: ["live", "reconnecting", "signedOut", "stopped"],
  live: ["reconnecting", "signedOut", "stopped"],
  reconnecting: ["live", "signedOut", "stopped"],
  signedOut: ["starting", "stopped"]
};
var STORAGE_KEYS = {
  deviceId: "softphone.deviceId",
  /** Set when this device was signed out (remotely or by `signOut()`): no automatic start. */
  signedOut: "softphone.signedOut"
};
var JITTER = 0.1;
var FIRST_BACKOFF_MS = 1e3;
var MAX_BACKOFF_MS = 3e4;
var MIN_BACKOFF_MS = 500;
var REPORT_DELAY_MS = 1e3;
var TOKEN_ERROR_CODES = /* @__PURE__ */ new Set([20101, 20104, 31204, 31205]);
var SoftphonePresence = class {
  /** `web_` + a UUID, created once per browser profile and kept in localStorage. */
  deviceId;
  env;
  options;
  events = new Emitter();
  label;
  _state = "stopped";
  _leader = false;
  /** The `leader` flag last announced with a `leader` event. */
  announcedLeader = false;
  _registration = null;
  _device = null;
  twilio = { state: void 0 };
  /** Bumped whenever the lifecycle is torn down: late answers of an older run are dropped. */
  run = 0;
  busy = false;
  timer = null;
  timerDue = 0;
  needsRegister = false;
  /** A register was asked for while a request was in flight: run it right after, if live. */
  registerAfterStep = false;
  signInPending = false;
  failures = 0;
  expiresAtMs = 0;
  intervalSeconds = 60;
  reportedTwilioState;
  /** Kept for `pagehide`, where nothing can be awaited. */
  appToken = null;
  releaseLock = null;
  lockRequest = null;
  channel = null;
  /** Torn down by `pagehide`: a `pageshow` from the back/forward cache starts again. */
  suspended = false;
  constructor(options) {
    this.options = options;
    this.env = { ...browserEnvironment(), ...options.environment };
    this.label = (options.label ?? labelFromUserAgent(this.env.userAgent)).slice(0, 64);
    this.deviceId = this.loadDeviceId();
    this.env.page?.addEventListener("pagehide", () => this.onPageHide());
    this.env.page?.addEventListener("pageshow", (event) => {
      if (event.persisted && this.suspended) this.start();
    });
  }
  get state() {
    return this._state;
  }
  /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
  get isLeader() {
    return this._leader;
  }
  /** The last register-device response of this tab (token, assigned phones, device, presence). */
  get registration() {
    return this._registration;
  }
  /** The Twilio Device this tab runs, if it leads. */
  get device() {
    return this._device;
  }
  get twilioStatus() {
    return this.twilio;
  }
  on(type, handler) {
    return this.events.on(type, handler);
  }
  off(type, handler) {
    this.events.off(type, handler);
  }
  /**
   * Start presence for this browser. Without `signIn` (a page load, a restored tab) a device that
   * was signed out stays signed out; `signIn: true` means the user just signed in and brings it
   * back. Calling it again while running only forwards a sign-in to the tab that leads.
   */
  start(options = {}) {
    this.suspended = false;
    if (options.signIn) {
      this.env.storage?.removeItem(STORAGE_KEYS.signedOut);
      this.signInPending = true;
    }
    if (this._state !== "stopped") {
      if (options.signIn) this.signInNow();
      return;
    }
    this.setState("starting");
    this.openChannel();
    this.requestLead();
  }
  /**
   * Stop presence in this tab: unregister the device (a normal request) and destroy the Twilio
   * Device. Another open tab of this browser then takes over.
   */
  async stop() {
    if (this._state === "stopped") return;
    const unregister = this._leader && this._state !== "signedOut";
    const body = this.unregisterBody();
    const release = this.takeLockRelease();
    this.teardown("stopped");
    try {
      if (unregister) await this.call(PATHS.unregister, body);
    } finally {
      release();
    }
  }
  /**
   * Sign this browser out: the server removes the device and refuses its automatic registers
   * (other tabs, reloads) until the user signs in again with `start({ signIn: true })`.
   */
  async signOut() {
    this.rememberSignedOut();
    this.signInPending = false;
    if (this._leader) this.enterSignedOut();
    else this.post({ type: "signedOut" });
    if (this._state !== "stopped" && !this._leader) this.setState("signedOut");
    await this.call(PATHS.unregister, { deviceId: this.deviceId, signOut: true });
  }
  // ── leadership ────────────────────────────────────────────────────────────
  requestLead() {
    const locks = this.env.locks;
    if (!locks) {
      this.lead();
      return;
    }
    const run = this.run;
    const request = new AbortController();
    this.lockRequest = request;
    locks.request(`softphone-presence:${this.deviceId}`, { signal: request.signal }, () => {
      if (run !== this.run) return;
      return new Promise((release) => {
        this.releaseLock = release;
        this.lockRequest = null;
        this.lead();
      });
    }).catch(() => {
    });
  }
  lead() {
    this._leader = true;
    this.twilio = { state: void 0 };
    if (this.isSignedOutStored() && !this.signInPending) {
      this.forceState("signedOut");
      return;
    }
    this.forceState("starting");
    this.needsRegister = true;
    this.setTimer(0);
  }
  takeLockRelease() {
    const release = this.releaseLock ?? (() => {
    });
    this.releaseLock = null;
    this.lockRequest?.abort();
    this.lockRequest = null;
    return release;
  }
  signInNow() {
    if (!this._leader) {
      this.post({ type: "signIn" });
      return;
    }
    this.signInPending = true;
    if (this._state === "signedOut") this.setState("starting");
    this.askRegister();
  }
  askRegister() {
    this.needsRegister = true;
    if (this.busy) this.registerAfterStep = true;
    else this.setTimer(0);
  }
  // ── the request loop ──────────────────────────────────────────────────────
  setTimer(ms) {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timerDue = this.env.now() + ms;
    this.timer = this.env.setTimeout(() => {
      this.timer = null;
      void this.step();
    }, ms);
  }
  clearTimer() {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
  }
  /** One request: register when needed (or when the TTL has passed), else heartbeat. */
  async step() {
    if (this.busy || !this._leader || this._state === "signedOut" || this._state === "stopped") return;
    const run = this.run;
    this.busy = true;
    try {
      const ttlPassed = this.env.now() >= this.expiresAtMs;
      if (this.needsRegister || ttlPassed) await this.register(run);
      else await this.heartbeat(run);
    } finally {
      if (run === this.run) this.busy = false;
    }
    if (run === this.run && this.registerAfterStep && this.needsRegister && this._state === "live") {
      this.setTimer(0);
    }
    this.registerAfterStep = false;
  }
  async register(run) {
    const signIn = this.signInPending;
    const outcome = await this.call(PATHS.register, {
      deviceId: this.deviceId,
      platform: "web",
      label: this.label,
      capabilities: this.options.capabilities ?? ["voice"],
      ...this.twilio.state ? { twilioState: this.twilio.state } : {},
      ...signIn ? { signIn: true } : {}
    });
    if (run !== this.run) return;
    if (outcome.kind !== "ok") {
      this.failed(outcome);
      return;
    }
    const registration = outcome.body;
    if (signIn) this.signInPending = false;
    this.needsRegister = this.signInPending;
    this._registration = registration;
    this.reportedTwilioState = this.twilio.state;
    this.noteDevice(registration.device, registration.presence);
    this.events.emit("registered", registration);
    if (registration.evictedDeviceIds?.length) {
      this.events.emit("evicted", { deviceIds: registration.evictedDeviceIds });
    }
    await this.useToken(registration.token, run);
    if (run !== this.run) return;
    this.setState("live");
    const changed = this._device !== null && this.twilio.state !== this.reportedTwilioState;
    this.setTimer(changed ? REPORT_DELAY_MS : this.jittered(this.intervalSeconds));
  }
  async heartbeat(run) {
    const twilioState = this.twilio.state;
    const outcome = await this.call(PATHS.heartbeat, {
      deviceId: this.deviceId,
      ...twilioState ? { twilioState } : {}
    });
    if (run !== this.run) return;
    if (outcome.kind !== "ok") {
      this.failed(outcome);
      return;
    }
    const beat = outcome.body;
    this.reportedTwilioState = twilioState;
    this.noteDevice(beat.device, beat.presence);
    this.setState("live");
    this.setTimer(this.jittered(this.intervalSeconds));
  }
  noteDevice(device, presence) {
    this.failures = 0;
    if (device?.expiresAt) this.expiresAtMs = device.expiresAt * 1e3;
    if (presence?.heartbeatIntervalSeconds) this.intervalSeconds = presence.heartbeatIntervalSeconds;
  }
  failed(outcome) {
    switch (outcome.kind) {
      case "notRegistered":
        this.needsRegister = true;
        this.setState("reconnecting", "device_not_registered");
        this.setTimer(0);
        return;
      case "signedOut":
        this.rememberSignedOut();
        this.enterSignedOut();
        return;
      case "transient":
        this.setState("reconnecting", outcome.reason);
        this.setTimer(this.backoff(outcome.retryAfterMs));
        return;
      case "unauthorized":
        this.events.emit("error", outcome.error);
        this.options.onSignInRequired?.();
        this.takeLockRelease()();
        this.teardown("stopped");
        return;
      case "fatal":
        this.events.emit("error", outcome.error);
        this.takeLockRelease()();
        this.teardown("stopped");
        return;
    }
  }
  jittered(seconds) {
    return seconds * 1e3 * (1 - JITTER + 2 * JITTER * this.env.random());
  }
  /** Retry-After when the server gave one, else exponential with jitter, inside the TTL. */
  backoff(retryAfterMs) {
    this.failures += 1;
    if (retryAfterMs !== void 0) return retryAfterMs;
    const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1));
    const delay = base / 2 + base / 2 * this.env.random();
    const left = this.expiresAtMs - this.env.now();
    return left > 0 ? Math.min(delay, Math.max(MIN_BACKOFF_MS, left / 2)) : delay;
  }
  // ── HTTP ──────────────────────────────────────────────────────────────────
  /** POST with the app token; a 401 is retried once with a token asked for again. */
  async call(path, body, retryUnauthorized = true) {
    let token;
    try {
      token = await this.options.getAppToken({ refresh: !retryUnauthorized });
    } catch (cause) {
      return {
        kind: "unauthorized",
        error: { code: "app_token", message: `getAppToken failed: ${String(cause)}` }
      };
    }
    this.appToken = token;
    let response;
    try {
      response = await this.env.fetch(this.url(path), {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body)
      });
    } catch {
      return { kind: "transient", reason: "network" };
    }
    if (response.status === 401 && retryUnauthorized) return this.call(path, body, false);
    return this.classify(response);
  }
  async classify(response) {
    const { status } = response;
    const body = await response.json().catch(() => void 0);
    if (status >= 200 && status < 300) {
      return body === void 0 ? { kind: "transient", reason: "malformed_response" } : { kind: "ok", body };
    }
    const code = body?.error?.code ?? `http_${status}`;
    const message = body?.error?.message ?? body?.message ?? `HTTP ${status}`;
    if (status === 401) return { kind: "unauthorized", error: { code: "unauthorized", message, status } };
    if (status === 404 && code === "device_not_registered") return { kind: "notRegistered" };
    if (status === 410) return { kind: "signedOut" };
    if (status === 408 || status === 429 || status >= 500) {
      return { kind: "transient", reason: code, retryAfterMs: this.retryAfterMs(response) };
    }
    return { kind: "fatal", error: { code, message, status } };
  }
  retryAfterMs(response) {
    const value = response.headers.get("Retry-After");
    if (value === null || value.trim() === "") return void 0;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1e3;
    const date = Date.parse(value);
    return Number.isNaN(date) ? void 0 : Math.max(0, date - this.env.now());
  }
  url(path) {
    return this.options.apiBaseUrl.replace(/\/+$/, "") + path;
  }
  unregisterBody() {
    const registrationId = this._registration?.registrationId;
    return { deviceId: this.deviceId, ...registrationId ? { registrationId } : {} };
  }
  // ── the Twilio Device ─────────────────────────────────────────────────────
  async useToken(token, run) {
    const current = this._device;
    if (current && current.state !== "destroyed") {
      try {
        current.updateToken(token);
      } catch {
        this.destroyDevice();
      }
      if (this._device) return;
    }
    let DeviceClass;
    try {
      DeviceClass = this.options.Device ?? await loadTwilioDevice();
    } catch (cause) {
      this.events.emit("error", { code: "twilio_sdk", message: `cannot load @twilio/voice-sdk: ${String(cause)}` });
      return;
    }
    if (run !== this.run) return;
    let device;
    try {
      device = new DeviceClass(token, this.options.deviceOptions);
    } catch (cause) {
      this.setTwilio({ state: void 0, error: { message: String(cause) } });
      return;
    }
    this._device = device;
    const mine = () => this._device === device;
    for (const state of ["registered", "registering", "unregistered"]) {
      device.on(state, () => {
        if (mine()) this.setTwilio({ state, ...state === "registered" ? {} : { error: this.twilio.error } });
      });
    }
    device.on("error", (error) => {
      if (!mine()) return;
      this.setTwilio({
        state: this.twilio.state,
        error: { code: error?.code, message: error?.message ?? String(error) }
      });
      if (error?.code !== void 0 && TOKEN_ERROR_CODES.has(error.code)) this.renew();
    });
    device.on("tokenWillExpire", () => {
      if (mine()) this.renew();
    });
    this.events.emit("device", device);
    try {
      device.register().catch(() => {
      });
    } catch {
    }
  }
  /** Register again for a fresh token, then `device.updateToken(token)`. */
  renew() {
    if (!this._leader || this._state === "signedOut" || this._state === "stopped") return;
    this.askRegister();
  }
  setTwilio(status) {
    this.twilio = status;
    this.events.emit("twilio", status);
    this.broadcastState();
    if (this._device !== null && this._state === "live" && status.state !== this.reportedTwilioState && !this.busy && this.timer !== null && this.timerDue > this.env.now() + REPORT_DELAY_MS) {
      this.setTimer(REPORT_DELAY_MS);
    }
  }
  destroyDevice() {
    const device = this._device;
    this._device = null;
    if (device && device.state !== "destroyed") {
      try {
        device.destroy();
      } catch {
      }
    }
    if (this.twilio.state !== void 0 || this.twilio.error) this.setTwilio({ state: void 0 });
  }
  // ── ending ────────────────────────────────────────────────────────────────
  enterSignedOut() {
    this.run += 1;
    this.busy = false;
    this.clearTimer();
    this.destroyDevice();
    this._registration = null;
    this.expiresAtMs = 0;
    this.setState("signedOut");
  }
  teardown(to) {
    this.run += 1;
    this.busy = false;
    this.needsRegister = false;
    this.clearTimer();
    this.destroyDevice();
    this._registration = null;
    this.expiresAtMs = 0;
    this._leader = false;
    this.setState(to);
    this.channel?.close();
    this.channel = null;
  }
  onPageHide() {
    if (this._state === "stopped") return;
    const token = this.appToken;
    if (this._leader && this._state !== "signedOut" && this._registration && token) {
      this.env.fetch(this.url(PATHS.unregister), {
        method: "POST",
        keepalive: true,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(this.unregisterBody())
      }).catch(() => {
      });
    }
    this.takeLockRelease()();
    this.teardown("stopped");
    this.suspended = true;
  }
  // ── state and the other tabs ──────────────────────────────────────────────
  setState(next, reason) {
    if (next === this._state) return;
    if (this._leader && !TRANSITIONS[this._state].includes(next)) {
      throw new Error(`softphone-presence: no transition ${this._state} → ${next}`);
    }
    this.forceState(next, reason);
  }
  /** Change state without the leader's rules: a follower mirrors, a new leader starts over. */
  forceState(next, reason) {
    const previous = this._state;
    if (this._leader !== this.announcedLeader) {
      this.announcedLeader = this._leader;
      this.events.emit("leader", { leader: this._leader });
    }
    if (next === previous) return;
    this._state = next;
    this.events.emit("state", { state: next, previous, leader: this._leader, ...reason ? { reason } : {} });
    this.broadcastState();
  }
  openChannel() {
    const Channel = this.env.BroadcastChannel;
    if (!Channel || this.channel) return;
    const channel = new Channel(`softphone-presence:${this.deviceId}`);
    this.channel = channel;
    channel.addEventListener("message", (event) => {
      if (this.channel === channel) this.onTabMessage(event.data);
    });
    this.post({ type: "hello" });
  }
  post(message) {
    try {
      this.channel?.postMessage(message);
    } catch {
    }
  }
  broadcastState() {
    if (this._leader && this._state !== "stopped") {
      this.post({ type: "state", state: this._state, twilio: this.twilio });
    }
  }
  onTabMessage(message) {
    if (this._leader) {
      if (message.type === "hello") this.broadcastState();
      else if (message.type === "signIn") this.signInNow();
      else if (message.type === "signedOut" && this._state !== "signedOut") this.enterSignedOut();
      return;
    }
    if (message.type === "state" && message.state !== "stopped" && this._state !== "stopped") {
      this.twilio = message.twilio;
      this.events.emit("twilio", message.twilio);
      if (message.state !== this._state) this.forceState(message.state);
    }
  }
  // ── storage ───────────────────────────────────────────────────────────────
  loadDeviceId() {
    const storage = this.env.storage;
    const stored = storage?.getItem(STORAGE_KEYS.deviceId);
    if (stored && /^[A-Za-z0-9._:-]{1,128}$/.test(stored)) return stored;
    const id = `web_${this.env.randomUUID()}`;
    storage?.setItem(STORAGE_KEYS.deviceId, id);
    return id;
  }
  isSignedOutStored() {
    return this.env.storage?.getItem(STORAGE_KEYS.signedOut) != null;
  }
  rememberSignedOut() {
    this.env.storage?.setItem(STORAGE_KEYS.signedOut, String(this.env.now()));
  }
};
async function loadTwilioDevice() {
  const sdk = await import("@twilio/voice-sdk");
  return sdk.Device;
}
export {
  Emitter,
  STORAGE_KEYS,
  SoftphonePresence,
  TRANSITIONS,
  labelFromUserAgent
};
