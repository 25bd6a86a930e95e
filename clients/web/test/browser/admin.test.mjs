// The admin console (GET /admin, issue 30), in Chromium, through the real local server: an
// admin adds a person and puts them in Sales, and a call to Sales rings that person's browser;
// a number's text forwarding the server refuses is shown with its path, then stored;
// two admins change Sales at once and the second is told, reloads, sees the first one's change
// and makes theirs again (both stored, nothing overwritten); the person added to a group sees
// the number on their settings page at once (phones.changed); someone who is not an admin gets
// no admin controls, and the API refuses them; the audit log shows every change, newest first,
// a page at a time. ADMIN_SCREENSHOT=path saves a screenshot of the console (docs/admin-page.png).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNT_SID, appToken, callSid, livePage, openSettings, post, serverAndBrowser, signIn, waitFor, webhook } from './harness.mjs';

const SALES = '+14155551234';
const FRANK = 'u_org_5Fdemo__frank_40example_2Ecom';

// A 300 s TTL: a heartbeat every 200 s, so nothing seen here can come from one.
const env = serverAndBrowser({ ttlSeconds: 300 });

/** A development token with the admin role (what "Sign in as an admin" gets). */
async function adminToken(email = 'alice@example.com') {
  return (await post(env.server.url, '/dev/sign-in', { email, orgId: 'org_demo', admin: true })).token;
}

async function adminGet(path, token) {
  const response = await fetch(env.server.url + path, { headers: { Authorization: `Bearer ${token ?? (await adminToken())}` } });
  return { status: response.status, etag: response.headers.get('ETag'), body: await response.json().catch(() => undefined) };
}

/** A new browser context with the admin console signed in as `email`, an admin, its lists shown. */
async function openConsole(email, { viewport } = {}) {
  const context = await env.browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${env.server.url}/admin`);
  const select = page.getByLabel('User');
  await select.waitFor();
  await select.selectOption(await select.locator('option', { hasText: email }).first().getAttribute('value'));
  await page.getByRole('button', { name: 'Sign in as an admin' }).click();
  await page.locator('#group-rows li[data-group-id="grp-sales"]').waitFor();
  return { context, page };
}

/** Opens Sales in the group editor. */
async function openSales(page) {
  await page.getByRole('button', { name: 'Edit the group Sales', exact: true }).click();
  await page.locator('#group-editor:not([hidden]) #group-name').waitFor();
  assert.equal(await page.locator('#group-name').inputValue(), 'Sales');
  return page.locator('#group-editor');
}

async function addMember(editor, email) {
  await editor.getByLabel('Add a member').selectOption(email);
  await editor.getByRole('button', { name: 'Add', exact: true }).click();
}

const memberNames = (editor) => editor.locator('#group-members .member-name').allTextContents();

test('an admin adds Frank and puts him in Sales, by keyboard; Frank signs in and a call to Sales rings his browser', async () => {
  const alice = await openConsole('alice@example.com');
  const { page } = alice;
  try {
    // Every control has a name a screen reader can say.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, input, select, textarea')]
        .filter((e) => e.offsetParent !== null)
        .filter((e) => !(e.getAttribute('aria-label') || e.labels?.length || (e.tagName === 'BUTTON' && e.textContent.trim())))
        .map((e) => e.id || e.outerHTML),
    );
    assert.deepEqual(unnamed, []);

    // Add a person with the keyboard only: the form opens with the focus in it, Enter saves.
    await page.getByRole('button', { name: 'Add a person' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'person-email');
    await page.keyboard.type('frank@example.com');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'person-name');
    await page.keyboard.type('Frank Fisher');
    await page.keyboard.press('Enter');
    await page.locator('#people-status', { hasText: 'Saved Frank Fisher.' }).waitFor();
    await page.locator('#people-rows li[data-email="frank@example.com"]', { hasText: 'Frank Fisher' }).waitFor();
    const frank = await adminGet('/phone/admin/users/frank@example.com');
    assert.equal(frank.status, 200);
    assert.deepEqual(frank.body, { email: 'frank@example.com', name: 'Frank Fisher' });

    // Put him in Sales, second in line (moved up past Bob).
    const editor = await openSales(page);
    await addMember(editor, 'frank@example.com');
    await editor.getByRole('button', { name: 'Move Frank Fisher up' }).click();
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
      'Move Frank Fisher up',
      'the focus stays on the button that moved the row',
    );
    assert.deepEqual(await memberNames(editor), [
      'Alice Adams (alice@example.com)',
      'Frank Fisher (frank@example.com)',
      'Bob Brown (bob@example.com)',
    ]);
    await editor.getByRole('button', { name: 'Save' }).click();
    await page.locator('#groups-status', { hasText: 'Saved Sales.' }).waitFor();
    const sales = await adminGet('/phone/admin/groups/grp-sales');
    assert.deepEqual(sales.body.members, ['alice@example.com', 'frank@example.com', 'bob@example.com']);
    assert.equal(sales.body.ringTimeoutSeconds, 25, 'nothing else changed');
    assert.equal(sales.body.fallback.maxLengthSeconds, 120, 'the voicemail settings the form has no field for are kept');

    // Frank signs in on the settings page (a browser of his own, live with the fake Device).
    const frankPage = await livePage(env, 'frank@example.com', { section: 'phones' });
    try {
      await frankPage.page.locator('#phone-rows tr[data-phone-id="phone-sales"]').waitFor();
      const twiml = await webhook(env.server.url, '/phone/voice/incoming', {
        AccountSid: ACCOUNT_SID,
        CallSid: callSid(),
        CallStatus: 'ringing',
        Direction: 'inbound',
        From: '+14155550142',
        To: SALES,
      });
      assert.match(twiml, new RegExp(`<Identity>${FRANK}</Identity>`), `Frank's browser is rung: ${twiml}`);
    } finally {
      await frankPage.context.close();
    }

    // Support's texts forwarded elsewhere. A number the server refuses (the browser's own check
    // taken away, as a script could) is shown with its path; a good one is stored, the rest kept.
    await page.getByRole('button', { name: 'Edit the number Support (+14155551235)' }).click();
    const number = page.locator('#phone-editor');
    await number.locator('#phone-forward').waitFor();
    assert.equal(await number.getByLabel('Forward texts to').inputValue(), '+14155557777');
    await number.locator('#phone-forward').evaluate((input) => input.removeAttribute('pattern'));
    await number.getByLabel('Forward texts to').fill('12345');
    await number.getByRole('button', { name: 'Save' }).click();
    const invalid = page.locator('#phone-error[role="alert"]');
    await invalid.waitFor();
    assert.equal(await invalid.locator('p').textContent(), 'Support was not saved: the directory would not be valid.');
    assert.deepEqual(await invalid.locator('li').allTextContents(), ['phones[1].sms.forwardTo: must be an E.164 number such as +14155551234']);
    await number.getByLabel('Forward texts to').fill('+14155550188');
    await number.getByRole('button', { name: 'Save' }).click();
    await page.locator('#numbers-status', { hasText: 'Saved Support.' }).waitFor();
    const support = await adminGet('/phone/admin/phones/phone-support');
    assert.deepEqual(support.body, {
      id: 'phone-support',
      phoneNumber: '+14155551235',
      friendlyName: 'Support',
      groupId: 'grp-support',
      sms: { forwardTo: '+14155550188' },
    });

    // Deleting Frank now is refused: Sales names him, and the page says so.
    await page.getByRole('button', { name: 'Edit Frank Fisher' }).click();
    await page.locator('#person-editor:not([hidden])').waitFor();
    await page.locator('#person-editor').getByRole('button', { name: 'Delete' }).click();
    const refused = page.locator('#person-error[role="alert"]');
    await refused.waitFor();
    assert.match(await refused.innerText(), /^Frank Fisher cannot be deleted: the group Sales \(grp-sales\) still uses it\. Change it first\./);
    assert.equal((await adminGet('/phone/admin/users/frank@example.com')).status, 200);
  } finally {
    await alice.context.close();
  }
});

test('two admins change Sales at once: the second is told, reloads, sees the first change and makes theirs again; Carol sees Sales at once', async () => {
  // Carol's settings page is open: Sales is not one of her numbers yet.
  const isUserPhones = (request) => new URL(request.url()).pathname === '/phone/user-phones';
  const carol = await livePage(env, 'carol@example.com', { section: 'phones', record: isUserPhones });
  const first = await openConsole('alice@example.com');
  const second = await openConsole('dave@example.com', { viewport: { width: 1100, height: 1000 } });
  try {
    await carol.page.locator('#phone-rows tr[data-phone-id="phone-support"]').waitFor();
    assert.equal(await carol.page.locator('#phone-rows tr[data-phone-id="phone-sales"]').count(), 0);

    const firstEditor = await openSales(first.page);
    const secondEditor = await openSales(second.page);

    // The first admin rings Sales for 40 s.
    await firstEditor.getByLabel('Ring for at most (seconds)').fill('40');
    await firstEditor.getByRole('button', { name: 'Save' }).click();
    await first.page.locator('#groups-status', { hasText: 'Saved Sales.' }).waitFor();

    // The second, whose page still shows 25 s, adds Carol: refused, told why, nothing stored.
    assert.equal(await secondEditor.getByLabel('Ring for at most (seconds)').inputValue(), '25');
    await addMember(secondEditor, 'carol@example.com');
    await secondEditor.getByRole('button', { name: 'Save' }).click();
    const alert = second.page.locator('#group-error[role="alert"]');
    await alert.waitFor();
    assert.equal(
      await alert.locator('p').first().textContent(),
      'Someone else changed Sales since you opened it. Reload to see their change, then make yours again.',
    );
    const meanwhile = await adminGet('/phone/admin/groups/grp-sales');
    assert.equal(meanwhile.body.ringTimeoutSeconds, 40, 'the first change stands');
    assert.ok(!meanwhile.body.members.includes('carol@example.com'), 'the stale save stored nothing');

    if (process.env.ADMIN_SCREENSHOT) {
      // Down to the newest audit entries: the log goes on with the directory's first import.
      const bottom = await second.page.locator('#audit-rows > li').nth(3).evaluate((li) => li.getBoundingClientRect().bottom + window.scrollY);
      await second.page.screenshot({
        path: process.env.ADMIN_SCREENSHOT,
        fullPage: true,
        clip: { x: 0, y: 0, width: 1100, height: Math.ceil(bottom + 4) },
      });
    }

    // Reload: the first admin's change shows; the second makes theirs again.
    await alert.getByRole('button', { name: 'Reload' }).click();
    await alert.waitFor({ state: 'hidden' });
    assert.equal(await secondEditor.getByLabel('Ring for at most (seconds)').inputValue(), '40');
    assert.ok(!(await memberNames(secondEditor)).some((name) => name.includes('carol@example.com')));
    await addMember(secondEditor, 'carol@example.com');
    const asked = carol.requests.length;
    await secondEditor.getByRole('button', { name: 'Save' }).click();
    await second.page.locator('#groups-status', { hasText: 'Saved Sales.' }).waitFor();

    const stored = await adminGet('/phone/admin/groups/grp-sales');
    assert.equal(stored.body.ringTimeoutSeconds, 40);
    assert.deepEqual(stored.body.members, ['alice@example.com', 'frank@example.com', 'bob@example.com', 'carol@example.com']);

    // Carol's page shows Sales without a reload or a request: the phones.changed event carries her numbers.
    await carol.page.locator('#phone-rows tr[data-phone-id="phone-sales"]').waitFor({ timeout: 5000 });
    assert.match(await carol.page.locator('#phone-rows tr[data-phone-id="phone-sales"]').innerText(), /Through the group Sales/);
    assert.equal(carol.requests.length, asked, 'no GET /phone/user-phones');
  } finally {
    await Promise.all([carol.context.close(), first.context.close(), second.context.close()]);
  }
});

test('someone who is not an admin gets no admin controls on /admin, and the API refuses them; an admin finds the console from the settings page', async () => {
  // Bob signs in on the settings page without the admin role, then opens /admin in the same browser.
  const context = await env.browser.newContext();
  try {
    const page = await openSettings(context, env.server.url);
    await signIn(page, 'bob@example.com');
    await page.locator('#account:not([hidden])').waitFor();
    assert.equal(await page.locator('#admin-link').isVisible(), false, 'no admin link for Bob');
    await page.goto(`${env.server.url}/admin`);
    const message = page.locator('#not-admin-message[role="alert"]');
    await message.waitFor();
    assert.match(await message.textContent(), /^You are not an admin of this org \(org_demo\)/);
    assert.equal(await page.locator('#console').isVisible(), false);
    for (const name of ['Add a person', 'New group', 'Edit the group Sales', 'Reload everything']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, name);
    }
    assert.equal(await page.locator('#people-rows li').count(), 0, 'not even the list of people');
    const bob = await appToken(env.server.url, 'bob@example.com');
    const refused = await adminGet('/phone/admin/directory', bob);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'forbidden');
  } finally {
    await context.close();
  }

  // Erin signs in on the settings page as an admin: the link takes her to the console, signed in.
  const erin = await env.browser.newContext();
  try {
    const page = await openSettings(erin, env.server.url);
    const select = page.getByLabel('User');
    await select.waitFor();
    await select.selectOption(await select.locator('option', { hasText: 'erin@example.com' }).first().getAttribute('value'));
    await page.getByLabel('Sign in as an admin').check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('link', { name: 'Admin console' }).click();
    await page.locator('#group-rows li[data-group-id="grp-sales"]').waitFor();
    assert.match(await page.locator('#account-name').textContent(), /erin@example\.com/);
  } finally {
    await erin.close();
  }
});

test('the audit log shows the changes made, newest first, a page at a time', async () => {
  // 21 more changes (Erin renamed and back), so that the changes above are on the second page.
  const token = await adminToken('erin@example.com');
  for (let n = 1; n <= 21; n += 1) {
    const { etag } = await adminGet('/phone/admin/users/erin@example.com', token);
    const name = n === 21 ? 'Erin Evans' : `Erin Evans ${n}`;
    const response = await fetch(`${env.server.url}/phone/admin/users/erin@example.com`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'If-Match': etag },
      body: JSON.stringify({ email: 'erin@example.com', name }),
    });
    assert.equal(response.status, 200, await response.text());
  }

  const { context, page } = await openConsole('alice@example.com');
  try {
    const rows = page.locator('#audit-rows > li');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 20, 'one page');
    assert.match(await rows.first().innerText(), /erin@example\.com changed the person Erin Evans <erin@example\.com>/);
    assert.match(await rows.first().innerText(), /name: "Erin Evans 20" → "Erin Evans"/);

    await page.getByRole('button', { name: 'Older', exact: true }).click();
    await waitFor('the older page', async () => (await rows.count()) > 20);
    const entries = await rows.evaluateAll((items) =>
      items.map((li) => ({ action: li.dataset.action, record: li.dataset.record, at: Date.parse(li.querySelector('time').dateTime), text: li.innerText })),
    );
    for (let i = 1; i < entries.length; i += 1) assert.ok(entries[i - 1].at >= entries[i].at, `newest first at ${i}`);
    // The changes of the tests above, newest first, after the renames (and before the import's at start-up).
    const ours = entries.filter((e) => !(e.record === 'user:erin@example.com'));
    assert.deepEqual(
      ours.slice(0, 5).map((e) => [e.action, e.record]),
      [
        ['group.updated', 'group:grp-sales'],
        ['group.updated', 'group:grp-sales'],
        ['phone.updated', 'phone:phone-support'],
        ['group.updated', 'group:grp-sales'],
        ['user.created', 'user:frank@example.com'],
      ],
    );
    const [carolAdded, longer, forwarded, frankAdded, frankCreated] = ours.map((e) => e.text);
    assert.match(carolAdded, /dave@example\.com changed the group Sales \(grp-sales\)/);
    assert.match(carolAdded, /members: added carol@example\.com/);
    assert.match(longer, /alice@example\.com changed the group Sales \(grp-sales\)/);
    assert.match(longer, /ringTimeoutSeconds: 25 → 40/);
    assert.match(forwarded, /alice@example\.com changed the number Support \(phone-support\)/);
    assert.match(forwarded, /sms\.forwardTo: "\+14155557777" → "\+14155550188"/);
    assert.match(frankAdded, /members: added frank@example\.com/);
    assert.match(frankCreated, /alice@example\.com added the person Frank Fisher <frank@example\.com>/);
    assert.match(frankCreated, /name: "Frank Fisher"/);
  } finally {
    await context.close();
  }
});
