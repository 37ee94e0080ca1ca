// Drives the demo page (/__dev/demo/, local/demo/) in headless Chromium from Debian's package, the way a user
// would: sign up, verify the email, scan the QR / confirm a TOTP code, save recovery codes, turn MFA on, sign
// out, sign in and answer the TOTP challenge, see the account; then reload to prove the session survives. Then
// the forgotten password: ask for the link, open it, choose a new password, and sign in with it, still meeting
// the TOTP challenge (a reset leaves MFA on). With --passkeys (a virtual authenticator), register a passkey, sign
// in with it, and use it as a password sign-in's second factor. Then sign out and "sign in with a link" as a new
// user: the emailed link opens the page, which exchanges it for a session.
//
//   node tests/js/browser/demo.mjs --page http://127.0.0.1:3000/__dev/demo/ [--screenshot docs/demo-qr.png]
//   node tests/js/browser/demo.mjs --page 'http://localhost:3000/__dev/demo/?endpoint=http://127.0.0.1:3000/v1'
//
// Same origin (page and API on one origin): the browser keeps the session cookie. Cross origin (another
// site): the cookie is neither stored nor sent, and the SDK's localStorage 'cookieFallback' carries the
// session in X-Fallback-Cookies. Both origins must be in the stack's AllowedOrigins. Exit code 0 on success;
// on failure it prints what went wrong, the API traffic and the browser console.
//
// --passkeys (the page on http://localhost:<port>: an IP address cannot be a relying-party id): the browser gets
// a virtual authenticator through the DevTools protocol's WebAuthn domain (a platform authenticator holding
// discoverable credentials, with user verification), and after the flow above the page adds a passkey, signs
// out, signs in with the passkey (on an account with MFA on), signs out, signs in with the password and
// completes the second factor with the passkey.
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import * as OTPAuth from 'otpauth';
import { chromium } from 'playwright-core';

const COOKIE = 'a_session_default';
const QR_SIZE = 400; // what local/demo/app.js asks avatars.getQR for
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const { values: options } = parseArgs({
  options: {
    page: { type: 'string' },
    screenshot: { type: 'string' },
    passkeys: { type: 'boolean', default: false },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
assert.ok(options.page, 'usage: demo.mjs --page <demo page URL> [--screenshot <png>] [--chromium <path>]');
const pageUrl = new URL(options.page);
const endpoint = new URL(pageUrl.searchParams.get('endpoint') || new URL('/v1', pageUrl).href);
const sameOrigin = pageUrl.origin === endpoint.origin;
const email = `${crypto.randomUUID().replaceAll('-', '')}@example.com`;
const password = 'correct horse battery staple';
const newPassword = 'a password chosen after forgetting';
const SEND_COOLDOWN_MS = 61_000; // API.md §5: one email per destination a minute (the verification link was one)

const traffic = []; // "METHOD path → status" of every API call, printed on failure
const consoleLines = [];
const pageErrors = [];
const timings = [];

/** Run one named step, timing it. */
async function step(name, action) {
  const started = performance.now();
  await action();
  timings.push(`${name} ${Math.round(performance.now() - started)} ms`);
}

/** Wait until the page's SDK step is over (it marks <body data-busy> synchronously on a click or at load);
 * then it must show section `id` and no error line. */
async function expectSection(page, id) {
  await page.waitForFunction(() => !document.body.dataset.busy);
  const [error, shown] = await page.evaluate(() => [
    document.getElementById('error').textContent,
    [...document.querySelectorAll('section:not([hidden])')].map((section) => section.id).join(),
  ]);
  assert.equal(error, '', `the page failed before showing #${id}`);
  assert.equal(shown, id, 'the section shown');
}

async function fillAndSubmit(page, form, fields, button) {
  for (const [name, value] of Object.entries(fields)) await page.fill(`#${form} [name=${name}]`, value);
  await page.click(`#${button}`);
}

async function emails(to = email) {
  const response = await fetch(new URL('/__dev/outbox', endpoint));
  assert.equal(response.status, 200);
  const messages = (await response.json()).filter((message) => message.to === to);
  assert.ok(messages.length, `no email to ${to} in the outbox`);
  return messages;
}

/** The link of the newest email to `to`. */
async function lastLink(to = email) {
  const newest = (await emails(to)).at(-1);
  const links = newest.text.match(/https?:\/\/[^\s<>"]+/g) ?? [];
  assert.equal(new Set(links).size, 1, `not exactly one link in ${JSON.stringify(newest.text)}`);
  return links[0];
}

/** TOTP codes of the page's key; a time step is accepted once, so the second code is of a later step. */
function authenticator(secret) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  let lastStep = -1;
  return () => {
    const stepNow = Math.floor(Date.now() / 30_000);
    lastStep = Math.max(stepNow, lastStep + 1); // at most one step ahead: the server accepts ±1 step
    return totp.generate({ timestamp: lastStep * 30_000 });
  };
}

async function sessionCookies(context) {
  return (await context.cookies(endpoint.origin)).filter((cookie) => cookie.name.startsWith(COOKIE));
}

async function storedFallback(page) {
  return JSON.parse((await page.evaluate(() => localStorage.getItem('cookieFallback'))) ?? 'null');
}

/** The session travels by cookie (same origin) or by X-Fallback-Cookies only (cross origin). */
async function assertSessionTransport(page, context, apiRequests) {
  const cookies = await sessionCookies(context);
  const fallback = await storedFallback(page);
  assert.match(fallback?.[COOKIE] ?? '', /^[A-Za-z0-9+/=_-]{20,}$/, 'localStorage cookieFallback holds the credential');
  const accountGets = apiRequests.filter(
    (request) => request.method() === 'GET' && new URL(request.url()).pathname === `${endpoint.pathname}/account`,
  );
  assert.ok(accountGets.length, 'the page called GET /account');
  const headers = await accountGets.at(-1).allHeaders();
  assert.equal(headers['x-fallback-cookies'], JSON.stringify(fallback));
  if (sameOrigin) {
    const names = cookies.map((cookie) => cookie.name).sort();
    assert.deepEqual(names, [COOKIE, `${COOKIE}_legacy`], 'the browser keeps both session cookies');
    assert.ok(cookies.every((cookie) => cookie.httpOnly && cookie.value === fallback[COOKIE]));
    assert.match(headers.cookie ?? '', new RegExp(`(^|; )${COOKIE}=`), 'the cookie is sent');
  } else {
    assert.deepEqual(cookies, [], 'a cross-site answer cannot set a SameSite-less cookie');
    assert.equal(headers.cookie, undefined, 'no cookie is sent cross-site');
  }
}

async function flow(page, context, apiRequests) {
  let code;
  await step('open', async () => {
    await page.goto(pageUrl.href);
    await expectSection(page, 'start');
  });
  await step('sign up', async () => {
    await fillAndSubmit(page, 'sign-up-form', { name: 'Ada Lovelace', email, password }, 'sign-up');
    await expectSection(page, 'verify');
  });
  await step('verify email', async () => {
    const link = await lastLink();
    const linkUrl = new URL(link);
    assert.equal(linkUrl.origin + linkUrl.pathname, pageUrl.origin + pageUrl.pathname, 'the link opens the page');
    assert.equal(linkUrl.searchParams.get('endpoint'), pageUrl.searchParams.get('endpoint'), 'and keeps its query');
    const qrAnswer = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('/avatars/qr'));
    await fillAndSubmit(page, 'verify-form', { link }, 'verify-submit');
    await expectSection(page, 'totp');
    const qr = await qrAnswer;
    assert.equal(qr.status(), 200);
    assert.equal(qr.headers()['content-type'], 'image/png');
  });
  await step('QR image', async () => {
    await page.waitForFunction(() => document.getElementById('qr').complete);
    assert.equal(await page.$eval('#qr', (img) => img.naturalWidth), QR_SIZE, 'the QR <img> decoded as a PNG');
    const src = new URL(await page.getAttribute('#qr', 'src'));
    const secret = await page.textContent('#totp-secret');
    assert.equal(`${src.origin}${src.pathname}`, `${endpoint.href}/avatars/qr`);
    assert.equal(src.searchParams.get('project'), 'default');
    const uri = new URL(src.searchParams.get('text'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), secret, 'the QR holds the key shown next to it');
    code = authenticator(secret);
    if (options.screenshot) await page.screenshot({ path: options.screenshot });
  });
  await step('confirm TOTP', async () => {
    await fillAndSubmit(page, 'totp-form', { otp: code() }, 'totp-submit');
    await expectSection(page, 'recovery');
    const codes = await page.$$eval('#recovery-codes li', (items) => items.map((item) => item.textContent));
    assert.equal(codes.length, 10);
    codes.forEach((recoveryCode) => assert.match(recoveryCode, /^[0-9a-f]{16}$/));
  });
  await step('turn MFA on', async () => {
    await page.click('#enable-mfa');
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-mfa'), 'on');
    assert.equal(await page.textContent('#account-verified'), 'yes');
    // Turning MFA on adds every verified factor to the session that did it (API.md §4.1).
    assert.equal(await page.textContent('#account-factors'), 'password, totp, email');
    await assertSessionTransport(page, context, apiRequests);
  });
  await step('sign out', async () => {
    await page.click('#sign-out');
    await expectSection(page, 'start');
    assert.deepEqual(await storedFallback(page), {}, 'the fallback credential is dropped');
    assert.deepEqual(await sessionCookies(context), [], 'the session cookies are gone');
  });
  await step('sign in (password)', async () => {
    const before = traffic.length;
    await fillAndSubmit(page, 'sign-in-form', { email, password }, 'sign-in');
    await expectSection(page, 'challenge');
    const signIn = traffic.slice(before);
    assert.ok(signIn.includes(`GET ${endpoint.pathname}/account → 401`), `GET /account asked for more: ${signIn}`);
  });
  await step('answer TOTP challenge', async () => {
    await fillAndSubmit(page, 'challenge-form', { otp: code() }, 'challenge-submit');
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-email'), email);
    assert.equal(await page.textContent('#account-name'), 'Ada Lovelace');
    assert.equal(await page.textContent('#account-factors'), 'password, totp');
    await assertSessionTransport(page, context, apiRequests);
  });
  await step('reload', async () => {
    // Same origin: drop the fallback, the cookie alone must keep the session; cross origin: the reverse.
    if (sameOrigin) await page.evaluate(() => localStorage.removeItem('cookieFallback'));
    else await context.clearCookies();
    await page.reload();
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-email'), email);
  });
  await step('forgot password', async () => {
    await page.click('#sign-out');
    await expectSection(page, 'start');
    // The verification link went to this address moments ago: its one-email-a-minute cooldown must pass first.
    const firstSent = Date.parse((await emails())[0].sentAt);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstSent + SEND_COOLDOWN_MS - Date.now())));
    await page.click('#forgot');
    await expectSection(page, 'forgot-password');
    await fillAndSubmit(page, 'forgot-form', { email }, 'forgot-submit');
    await expectSection(page, 'forgot-sent');
  });
  await step('open the recovery link', async () => {
    const link = new URL(await lastLink());
    assert.equal(link.origin + link.pathname, pageUrl.origin + pageUrl.pathname, 'the link opens the page');
    assert.equal(link.searchParams.get('endpoint'), pageUrl.searchParams.get('endpoint'), 'and keeps its query');
    assert.equal(link.searchParams.get('reset'), '1');
    assert.match(link.searchParams.get('secret'), /^[0-9a-f]{64}$/);
    await page.goto(link.href);
    await expectSection(page, 'reset-password');
  });
  await step('choose a new password', async () => {
    await fillAndSubmit(page, 'reset-form', { password: newPassword }, 'reset-submit');
    await expectSection(page, 'start');
    assert.equal(await page.textContent('#notice'), 'Password changed. Sign in with the new one.');
    assert.equal(new URL(page.url()).searchParams.get('secret'), null, 'the secret leaves the address bar');
    assert.match((await emails()).at(-1).subject, /password was reset/);
  });
  await step('sign in with the new password (MFA stays)', async () => {
    await fillAndSubmit(page, 'sign-in-form', { email, password }, 'sign-in');
    await page.waitForFunction(() => !document.body.dataset.busy);
    assert.match(await page.textContent('#error'), /^user_invalid_credentials: /, 'the old password is gone');
    await fillAndSubmit(page, 'sign-in-form', { email, password: newPassword }, 'sign-in');
    await expectSection(page, 'challenge');
    await fillAndSubmit(page, 'challenge-form', { otp: code() }, 'challenge-submit');
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-factors'), 'password, totp');
    assert.equal(await page.textContent('#account-mfa'), 'on');
  });
}

/** A new user signs in with an emailed link (the page exchanges it for a session). */
async function linkFlow(page, context, apiRequests) {
  await step('sign in with a link', async () => {
    await page.click('#sign-out');
    await expectSection(page, 'start');
    const newcomer = `link-${email}`; // no account yet: the link makes one
    await fillAndSubmit(page, 'link-form', { email: newcomer }, 'link-submit');
    await expectSection(page, 'link-sent');
    const link = new URL(await lastLink(newcomer));
    assert.equal(link.origin + link.pathname, pageUrl.origin + pageUrl.pathname, 'the link opens the page');
    assert.equal(link.searchParams.get('endpoint'), pageUrl.searchParams.get('endpoint'), 'and keeps its query');
    await page.goto(link.href);
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-email'), newcomer);
    assert.equal(await page.textContent('#account-verified'), 'yes', 'the link proved the email');
    assert.equal(await page.textContent('#account-factors'), 'email');
    assert.equal(new URL(page.url()).searchParams.get('secret'), null, 'the secret left the address bar');
    await assertSessionTransport(page, context, apiRequests);
  });
}

/** A virtual platform authenticator (CTAP2, internal transport) with resident keys and user verification. */
async function virtualAuthenticator(page) {
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('WebAuthn.enable');
  const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return async () => (await devtools.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
}

async function passkeyFlow(page, storedCredentials) {
  await step('add a passkey', async () => {
    await page.click('#add-passkey');
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-passkeys'), '1');
    const credentials = await storedCredentials();
    assert.equal(credentials.length, 1, 'the authenticator holds one credential');
    assert.ok(credentials[0].isResidentCredential, 'a discoverable credential');
    assert.equal(credentials[0].rpId, 'localhost');
  });
  await step('sign out', async () => {
    await page.click('#sign-out');
    await expectSection(page, 'start');
  });
  await step('sign in with the passkey', async () => {
    await page.click('#passkey-sign-in');
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-email'), email);
    assert.equal(await page.textContent('#account-mfa'), 'on');
    assert.equal(await page.textContent('#account-factors'), 'passkey', 'the passkey alone passed the MFA gate');
    assert.equal((await storedCredentials())[0].signCount, 2, 'registration, then one sign-in');
  });
  await step('sign out', async () => {
    await page.click('#sign-out');
    await expectSection(page, 'start');
  });
  await step('password, then the passkey as the second factor', async () => {
    await fillAndSubmit(page, 'sign-in-form', { email, password: newPassword }, 'sign-in'); // since the reset
    await expectSection(page, 'challenge');
    await page.click('#challenge-passkey');
    await expectSection(page, 'account');
    assert.equal(await page.textContent('#account-factors'), 'password, passkey');
  });
}

const browser = await chromium.launch({ executablePath: options.chromium, args: CHROMIUM_ARGS });
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 640 } });
  const page = await context.newPage();
  const apiRequests = [];
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('response', (response) => {
    const request = response.request();
    const url = new URL(request.url());
    if (!url.pathname.startsWith(`${endpoint.pathname}/`)) return;
    traffic.push(`${request.method()} ${url.pathname} → ${response.status()}`);
    apiRequests.push(request);
  });
  page.on('requestfailed', (request) => traffic.push(`${request.method()} ${request.url()} ✗ ${request.failure()?.errorText}`));
  const storedCredentials = options.passkeys ? await virtualAuthenticator(page) : null;
  await flow(page, context, apiRequests);
  if (options.passkeys) await passkeyFlow(page, storedCredentials);
  await linkFlow(page, context, apiRequests);
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
} catch (error) {
  failed = true;
  console.error(`FAILED (${sameOrigin ? 'same origin' : 'cross origin'}, ${pageUrl.href}):\n${error.stack}`);
  console.error(`\nAPI traffic:\n  ${traffic.join('\n  ')}`);
  console.error(`\nBrowser console:\n  ${consoleLines.join('\n  ')}`);
  if (pageErrors.length) console.error(`\nPage errors:\n  ${pageErrors.join('\n  ')}`);
} finally {
  await browser.close();
}
const run = `${sameOrigin ? 'same origin' : 'cross origin'}${options.passkeys ? ', passkeys' : ''}`;
console.log(`${run}: ${failed ? 'FAILED' : 'ok'} (${timings.join(', ')})`);
process.exit(failed ? 1 : 0);
