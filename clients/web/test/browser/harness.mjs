// Shared by the browser tests: the real local server (`softphone-presence serve --port 0` with a
// short presence TTL), headless Chromium through playwright-core, small API helpers, signed
// Twilio webhooks, and a fake of Twilio's REST API for the server to send texts through.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webRoot = resolve(here, '../..');
export const repoRoot = resolve(webRoot, '../..');

export const TTL_SECONDS = 3;

/**
 * One server and one browser for a test file, started before its first test and stopped after
 * its last: `const env = serverAndBrowser();`, then `env.server` and `env.browser`. With
 * `fakeTwilio: true` the server talks to a fake of Twilio's REST API, `env.fake`
 * (startFakeTwilio).
 */
export function serverAndBrowser({ fakeTwilio = false, ...serverOptions } = {}) {
  const env = { server: undefined, browser: undefined, fake: undefined };
  before(async () => {
    env.fake = fakeTwilio ? await startFakeTwilio() : undefined;
    const fakeEnv = env.fake ? { TWILIO_API_BASE_URL: env.fake.url } : {};
    env.server = await startServer({ ...serverOptions, env: { ...serverOptions.env, ...fakeEnv } });
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    await env.fake?.stop();
  });
  return env;
}

/** `env`: more settings for the server, such as `PRESENCE_TTL_SECONDS_MOBILE`. */
export async function startServer({ ttlSeconds = TTL_SECONDS, env = {} } = {}) {
  const bin = resolve(webRoot, process.env.SOFTPHONE_SERVER_BIN ?? '../../target/debug/softphone-presence');
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run \`cargo build\` at the repository root, or set SOFTPHONE_SERVER_BIN`);
  }
  const child = spawn(bin, ['serve', '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, PRESENCE_TTL_SECONDS: String(ttlSeconds), RUST_LOG: process.env.RUST_LOG ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no address in 20 s:\n${output}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      // "softphone-presence listening on http://127.0.0.1:PORT"
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // SIGTERM rather than SIGINT: a shell's background jobs inherit SIGINT ignored.
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      // Nothing the server left behind may keep this test process alive.
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}

export function chromiumPath() {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Nothing but this machine: the real Voice SDK's connections to Twilio fail at once,
      // without a DNS query leaving the host.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
    ],
  });
}

export async function post(base, path, body, token) {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(data)}`);
  return data;
}

/**
 * POSTs a Twilio webhook signed as Twilio signs it (X-Twilio-Signature: base64 HMAC-SHA1 of the
 * URL and the sorted parameters, with the local server's development auth token).
 */
export async function webhook(base, path, params) {
  const url = base + path;
  const signed = url + Object.keys(params).sort().map((key) => key + params[key]).join('');
  const authToken = process.env.TWILIO_AUTH_TOKEN ?? 'dev-only-twilio-auth-token';
  const signature = createHmac('sha1', authToken).update(signed).digest('base64');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
    body: new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
  return text;
}

/** The development account of the local server. */
export const ACCOUNT_SID = 'AC00000000000000000000000000000000';

export async function appToken(base, email = 'alice@example.com', orgId = 'org_demo') {
  return (await post(base, '/dev/sign-in', { email, orgId })).token;
}

export async function deviceIds(base, token) {
  const response = await fetch(`${base}/phone/voice/devices`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`devices: ${response.status}`);
  return (await response.json()).devices.map((d) => d.deviceId);
}

export async function waitFor(what, check, { timeout = 5000, every = 100 } = {}) {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return { value, elapsed: Date.now() - start };
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves, in the page, to the time (Date.now) at which `selector` first matched an element
 * whose text contains `text` (and whose `data-status` is `status`, if given). Installed now,
 * awaited later: `const seen = await when(...); …; await seen.at()`.
 */
export async function when(page, selector, { text = '', status } = {}) {
  const name = `seen${Math.random().toString(36).slice(2)}`;
  await page.evaluate(
    ({ name, selector, text, status }) => {
      const found = () =>
        [...document.querySelectorAll(selector)].some(
          (e) => e.textContent.includes(text) && (status === undefined || e.dataset.status === status),
        );
      window[name] = new Promise((resolve) => {
        if (found()) return resolve(Date.now());
        const observer = new MutationObserver(() => {
          if (found()) {
            observer.disconnect();
            resolve(Date.now());
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
    },
    { name, selector, text, status },
  );
  return { at: (timeout = 5000) => page.waitForFunction((n) => window[n], name, { timeout }).then((h) => h.jsonValue()) };
}

/** Opens the settings page; `device` is the test hook (`fake`, `fake-offline`, or null: the real SDK). */
export async function openSettings(context, base, { device = 'fake' } = {}) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${base}/${device ? `?device=${device}` : ''}`);
  return page;
}

/**
 * A new browser context with the settings page signed in as `email`, live, its realtime channel
 * connected and the section `#section` shown. `requests` lists the context's requests that
 * `record(request)` picks, each `{ request, path, at }`.
 */
export async function livePage(env, email, { section, record = () => false } = {}) {
  const context = await env.browser.newContext();
  const requests = [];
  context.on('request', (request) => {
    if (record(request)) requests.push({ request, path: new URL(request.url()).pathname, at: Date.now() });
  });
  const page = await openSettings(context, env.server.url);
  await signIn(page, email);
  await waitForState(page, 'live');
  await waitForRealtime(page);
  if (section) await page.locator(`#${section}`).waitFor();
  return { context, page, requests };
}

/** Picks the user in the sign-in form and signs in; resolves when presence is live. */
export async function signIn(page, email = 'alice@example.com') {
  const select = page.getByLabel('User');
  await select.waitFor();
  const value = await select.locator('option', { hasText: email }).first().getAttribute('value');
  await select.selectOption(value);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function presenceState(page) {
  return page.evaluate(() => window.softphone.presence.state);
}

export async function waitForState(page, state, timeout = 5000) {
  await page.waitForFunction((s) => window.softphone?.presence.state === s, state, { timeout });
}

/** Waits for the realtime channel of the page's browser to be connected. */
export async function waitForRealtime(page, timeout = 5000) {
  await page.waitForFunction(() => window.softphone?.presence.realtimeState === 'connected', null, { timeout });
}

export async function pageDeviceId(page) {
  return page.evaluate(() => window.softphone.presence.deviceId);
}

const LIFECYCLE = new Set(['/phone/voice/register-device', '/phone/voice/heartbeat', '/phone/voice/unregister-device']);

/** Records the lifecycle requests (register, heartbeat, unregister) of a context, with the page that sent each. */
export function recordRequests(context) {
  const requests = [];
  context.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (!LIFECYCLE.has(path)) return;
    let page;
    try {
      page = request.frame().page();
    } catch {
      // A request of a page that is closing.
    }
    requests.push({ path, page, at: Date.now(), body: request.postData() });
  });
  return requests;
}

/** The local server's development API key (shared/src/local.rs): what it calls Twilio's REST API with. */
export const API_KEY_SID = 'SK00000000000000000000000000000000';
export const API_KEY_SECRET = 'dev-only-twilio-api-key-secret';

const hex = (n) => [...randomBytes(n)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A new Message SID as Twilio makes them: SM and 32 hex digits. */
export const messageSid = () => `SM${hex(16)}`;
/** A new Call SID (CA) or Recording SID (RE). */
export const callSid = () => `CA${hex(16)}`;
export const recordingSid = () => `RE${hex(16)}`;

/**
 * A fake of Twilio's REST API for the server's TWILIO_API_BASE_URL. It checks what Twilio
 * checks: HTTP Basic auth with the development API key SID and secret (else 401 with code
 * 20003), and on `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` a form with `To`,
 * `From` (E.164), `Body` and `StatusCallback` (an absolute URL), answering 201 with the
 * message's JSON (`sid`: SM + 32 hex, `status: "queued"`) as Twilio does. It serves the
 * media put in `media` (path → { type, bytes }) the same way, recordings (`recording(sid,
 * bytes)`: `GET …/Recordings/{sid}.mp3`), deletes them (`DELETE …/Recordings/{sid}.json`:
 * 204, then 404 as Twilio answers for a recording that is gone; listed in `deletedRecordings`),
 * and a test can queue answers for the next sends in `sendAnswers` ({ status, body, headers }).
 * Whatever it refuses is listed in `problems`; `sent` holds the accepted forms.
 */
export async function startFakeTwilio() {
  const fake = { url: '', sent: [], attempts: [], problems: [], sendAnswers: [], media: new Map(), deletedRecordings: [] };
  const expected = `Basic ${Buffer.from(`${API_KEY_SID}:${API_KEY_SECRET}`).toString('base64')}`;
  const account = `/2010-04-01/Accounts/${ACCOUNT_SID}`;
  const answer = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const refuse = (res, status, code, message) => {
    fake.problems.push(`${status} ${code}: ${message}`);
    answer(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url, 'http://fake').pathname;
      if (req.headers.authorization !== expected) return refuse(res, 401, 20003, `Authenticate (${req.method} ${path})`);
      if (req.method === 'POST' && path === `${account}/Messages.json`) {
        if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
          return refuse(res, 400, 20001, `not a form: ${req.headers['content-type']}`);
        }
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
        fake.attempts.push(form);
        for (const field of ['To', 'From']) {
          if (!/^\+[1-9]\d{6,14}$/.test(form[field] ?? '')) return refuse(res, 400, 21604, `'${field}' must be an E.164 number: ${form[field]}`);
        }
        if (!form.Body) return refuse(res, 400, 21602, 'Message body is required');
        if (!/^https?:\/\/[^/]+\/phone\/sms\/status$/.test(form.StatusCallback ?? '')) {
          return refuse(res, 400, 21609, `StatusCallback is not this service's: ${form.StatusCallback}`);
        }
        const scripted = fake.sendAnswers.shift();
        if (scripted) return answer(res, scripted.status, scripted.body, scripted.headers);
        const sid = messageSid();
        fake.sent.push({ ...form, sid });
        return answer(res, 201, {
          sid,
          account_sid: ACCOUNT_SID,
          from: form.From,
          to: form.To,
          body: form.Body,
          status: 'queued',
          direction: 'outbound-api',
          num_segments: '1',
          num_media: '0',
          error_code: null,
          error_message: null,
          api_version: '2010-04-01',
          date_created: new Date().toUTCString().replace('GMT', '+0000'),
          uri: `${account}/Messages/${sid}.json`,
        });
      }
      const deleted = /\/Recordings\/(RE[0-9a-f]{32})\.json$/.exec(path);
      if (req.method === 'DELETE' && deleted && path.startsWith(account) && fake.media.delete(`${account}/Recordings/${deleted[1]}.mp3`)) {
        fake.deletedRecordings.push(deleted[1]);
        res.writeHead(204);
        return res.end();
      }
      const file = req.method === 'GET' ? fake.media.get(path) : undefined;
      if (file) {
        res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.bytes.length });
        return res.end(file.bytes);
      }
      return refuse(res, 404, 20404, `The requested resource ${path} was not found`);
    });
  });
  await new Promise((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  fake.url = `http://127.0.0.1:${server.address().port}`;
  fake.stop = () => new Promise((resolveClose) => server.close(resolveClose));
  /** A media URL of this account, as a webhook's MediaUrlN names it, serving `bytes`. */
  fake.mediaUrl = (sid, type, bytes) => {
    const path = `${account}/Messages/${sid}/Media/ME${hex(16)}`;
    fake.media.set(path, { type, bytes });
    return fake.url + path;
  };
  /** A recording of this account, as a voicemail's recording callback names it, serving `bytes` as MP3. */
  fake.recording = (sid, bytes) => fake.media.set(`${account}/Recordings/${sid}.mp3`, { type: 'audio/mpeg', bytes });
  return fake;
}
