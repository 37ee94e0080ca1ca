// The demo app: what an app does with the Appwrite web SDK (window.Appwrite, from sdk.js).
// ?endpoint=<API base URL ending in /v1> (default: this origin's /v1) and ?project=<id> (default: "default").
'use strict';

const { Client, Account, Avatars, ID, AuthenticatorType, AuthenticationFactor } = Appwrite;

const query = new URLSearchParams(location.search);
const endpoint = query.get('endpoint') || new URL('/v1', location.href).href;
const project = query.get('project') || 'default';
const client = new Client().setEndpoint(endpoint).setProject(project);
const account = new Account(client);
const avatars = new Avatars(client);

const $ = (id) => document.getElementById(id);
let challengeId = '';

/** Show one section, hide the others. */
function show(id) {
  for (const section of document.querySelectorAll('section')) section.hidden = section.id !== id;
}

/** Run an SDK step: the page is busy meanwhile (data-busy on <body>), and a failure shows "<type>: <message>". */
async function run(step) {
  $('error').textContent = '';
  $('notice').textContent = '';
  document.body.dataset.busy = 'true';
  try {
    await step();
  } catch (error) {
    $('error').textContent = `${error.type || error.name}: ${error.message}`;
  } finally {
    delete document.body.dataset.busy;
  }
}

/** Call `handler` with the form's fields when it is submitted. */
function onSubmit(id, handler) {
  $(id).addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.target));
    run(() => handler(fields));
  });
}

const RECOVERY_PARAMS = ['reset', 'userId', 'secret', 'expire'];

/** Where the emailed links point: this page, as it was opened (endpoint and project kept), with `extra` added. */
function pageUrl(extra = {}) {
  const url = new URL(location.href);
  url.hash = '';
  for (const name of RECOVERY_PARAMS) url.searchParams.delete(name);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  return url.href;
}

/** A passkey route of API.md §9 (web SDK 28 has no methods for them): through the SDK's client, so that the
 * session travels as it does for every SDK call (cookie or X-Fallback-Cookies). */
function passkeyCall(method, path, body = {}) {
  const headers = { 'X-Appwrite-Project': project, 'content-type': 'application/json' };
  return client.call(method, new URL(client.config.endpoint + path), headers, body);
}

/** navigator.credentials.get() for the server's request options; the assertion in its JSON form. */
async function assertion(publicKey) {
  const options = PublicKeyCredential.parseRequestOptionsFromJSON(publicKey);
  return (await navigator.credentials.get({ publicKey: options })).toJSON();
}

async function showAccount() {
  const user = await account.get();
  const session = await account.getSession({ sessionId: 'current' });
  const { total } = await passkeyCall('get', '/account/passkeys');
  $('account-passkeys').textContent = String(total);
  $('account-name').textContent = user.name;
  $('account-email').textContent = user.email;
  $('account-verified').textContent = user.emailVerification ? 'yes' : 'no';
  $('account-mfa').textContent = user.mfa ? 'on' : 'off';
  $('account-factors').textContent = session.factors.join(', ');
  show('account');
}

/** After a password: the account, or the second step when MFA asks for more factors. */
async function enter() {
  try {
    await showAccount();
  } catch (error) {
    if (error.type !== 'user_more_factors_required') throw error;
    const challenge = await account.createMfaChallenge({ factor: AuthenticationFactor.Totp });
    challengeId = challenge.$id;
    show('challenge');
  }
}

/** "Sign in with a link": the link opens this page with `link=sign-in`, userId and secret in its query. */
async function emailLink({ email }) {
  const url = new URL(pageUrl());
  url.searchParams.set('link', 'sign-in');
  await account.createMagicURLToken({ userId: ID.unique(), email, url: url.href });
  $('link-email').textContent = email;
  show('link-sent');
}

/** Opened from a sign-in link: exchange its secret for a session, and drop it from the address bar. */
async function followLink() {
  const url = new URL(location.href);
  const [userId, secret] = [url.searchParams.get('userId'), url.searchParams.get('secret')];
  for (const name of ['link', 'userId', 'secret', 'expire']) url.searchParams.delete(name);
  history.replaceState(null, '', url.href);
  await account.createSession({ userId, secret });
}

async function signUp({ name, email, password }) {
  await account.create({ userId: ID.unique(), email, password, name });
  await account.createEmailPasswordSession({ email, password });
  await account.createEmailVerification({ url: pageUrl() });
  $('verify-email').textContent = email;
  show('verify');
}

async function verify({ link }) {
  const params = new URL(link.trim()).searchParams;
  await account.updateEmailVerification({ userId: params.get('userId'), secret: params.get('secret') });
  const { secret, uri } = await account.createMfaAuthenticator({ type: AuthenticatorType.Totp });
  $('qr').src = avatars.getQR({ text: uri, size: 400, margin: 1 });
  $('totp-secret').textContent = secret;
  show('totp');
}

async function confirmAuthenticator({ otp }) {
  await account.updateMfaAuthenticator({ type: AuthenticatorType.Totp, otp: otp.trim() });
  const { recoveryCodes } = await account.createMfaRecoveryCodes();
  $('recovery-codes').replaceChildren(
    ...recoveryCodes.map((code) => Object.assign(document.createElement('li'), { textContent: code })),
  );
  show('recovery');
}

async function forgotPassword({ email }) {
  await account.createRecovery({ email, url: pageUrl({ reset: '1' }) });
  $('forgot-email').textContent = email;
  show('forgot-sent');
}

/** The recovery link opened this page: set the new password, then sign in again (with the second step if MFA is on). */
async function resetPassword({ password }) {
  await account.updateRecovery({ userId: query.get('userId'), secret: query.get('secret'), password });
  history.replaceState(null, '', pageUrl());
  show('start');
  $('notice').textContent = 'Password changed. Sign in with the new one.';
}

/** Register a passkey for this account (the session signed in a moment ago, as the server requires). */
async function addPasskey() {
  const started = await passkeyCall('post', '/account/passkeys', { passkeyId: 'unique()', name: 'This device' });
  const options = PublicKeyCredential.parseCreationOptionsFromJSON(started.publicKey);
  const credential = await navigator.credentials.create({ publicKey: options });
  await passkeyCall('put', `/account/passkeys/${started.passkeyId}/verification`, { credential: credential.toJSON() });
  await showAccount();
}

/** Sign in with a passkey: no email asked, the browser offers the passkeys it holds for this site. */
async function passkeySignIn() {
  const challenge = await passkeyCall('post', '/account/tokens/passkey');
  const token = await passkeyCall('put', '/account/tokens/passkey', {
    challengeId: challenge.$id,
    credential: await assertion(challenge.publicKey),
  });
  await account.createSession({ userId: token.userId, secret: token.secret });
  await enter();
}

/** The second step with a passkey instead of a code (API.md §9's extension): the assertion goes as `otp`. */
async function passkeyChallenge() {
  const challenge = await account.createMfaChallenge({ factor: 'passkey' });
  const otp = JSON.stringify(await assertion(challenge.publicKey));
  await account.updateMfaChallenge({ challengeId: challenge.$id, otp });
  await showAccount();
}

async function answerChallenge({ otp }) {
  await account.updateMfaChallenge({ challengeId, otp: otp.trim() });
  await showAccount();
}

$('endpoint').textContent = endpoint;
$('project').textContent = project;
onSubmit('sign-up-form', signUp);
onSubmit('sign-in-form', async ({ email, password }) => {
  await account.createEmailPasswordSession({ email, password });
  await enter();
});
onSubmit('link-form', emailLink);
onSubmit('verify-form', verify);
onSubmit('totp-form', confirmAuthenticator);
onSubmit('challenge-form', answerChallenge);
onSubmit('forgot-form', forgotPassword);
onSubmit('reset-form', resetPassword);
$('forgot').addEventListener('click', () => show('forgot-password'));
$('add-passkey').addEventListener('click', () => run(addPasskey));
$('passkey-sign-in').addEventListener('click', () => run(passkeySignIn));
$('challenge-passkey').addEventListener('click', () => run(passkeyChallenge));
$('enable-mfa').addEventListener('click', () =>
  run(async () => {
    await account.updateMFA({ mfa: true });
    await showAccount();
  }),
);
$('sign-out').addEventListener('click', () =>
  run(async () => {
    await account.deleteSession({ sessionId: 'current' });
    show('start');
  }),
);

// On load: a recovery link asks for the new password, a sign-in link signs in first; a signed-in visitor sees the
// account (or the second step); anyone else the forms.
run(async () => {
  if (query.get('reset') && query.get('secret')) {
    show('reset-password');
    return;
  }
  try {
    if (query.get('link') === 'sign-in') await followLink();
    await enter();
  } catch (error) {
    if (error.code !== 401) throw error;
    show('start');
  }
});
