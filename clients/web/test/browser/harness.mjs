// Shared by the browser tests: the real local server (`softphone-presence serve --port 0` with a
// short presence TTL), headless Chromium through playwright-core, and small API helpers.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webRoot = resolve(here, '../..');
export const repoRoot = resolve(webRoot, '../..');

export const TTL_SECONDS = 3;

/** Starts the server and resolves once it printed the address it listens on. */
/**
 * One server and one browser for a test file, started before its first test and stopped after
 * its last: `const env = serverAndBrowser();`, then `env.server` and `env.browser`.
 */
export function serverAndBrowser(serverOptions) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer(serverOptions);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
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

/** Opens the settings page; `device` is the test hook (`fake`, `fake-offline`, or null: the real SDK). */
export async function openSettings(context, base, { device = 'fake' } = {}) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${base}/${device ? `?device=${device}` : ''}`);
  return page;
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
