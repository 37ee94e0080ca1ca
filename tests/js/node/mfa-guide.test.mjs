// The MFA guide with the Appwrite web SDK, as an app on another site runs it: sign up, recovery codes, a verified
// email and phone, a TOTP authenticator with its QR code, MFA on, sign out, then a sign-in finished by each factor
// in turn, each in a fresh browser. Mirrors tests/e2e/test_mfa_guide.py (the same guide over HTTP and Python).
//
// One test, since each step needs the one before. One sign-up. Waits once for the one-message-per-destination-per-
// minute limit: the email and phone challenges come right after the verification messages to the same addresses.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AppwriteException, AuthenticationFactor, AuthenticatorType, ID } from 'appwrite';

import {
  APP_URL,
  AuthenticatorApp,
  Browser,
  DATETIME,
  ENDPOINT,
  ISSUER,
  PASSWORD,
  PROJECT,
  SEND_COOLDOWN_S,
  afterCooldown,
  lastCode,
  lastLink,
  lastMessage,
  loadPng,
  rejects,
  signedIn,
  uniqueEmail,
  uniquePhone,
} from './support.mjs';

const RECOVERY_CODE = /^[0-9a-f]{16}$/;
const BASE32_SECRET = /^[A-Z2-7]{32}$/;
const ALL_FACTORS = { totp: true, email: true, phone: true, recoveryCode: true };

/** The guide's check after a sign-in: does the account need a second factor? */
async function needsSecondFactor(account) {
  try {
    await account.get();
  } catch (error) {
    if (error instanceof AppwriteException && error.type === 'user_more_factors_required') return true;
    throw error;
  }
  return false;
}

/** A fresh browser signed in with the password of a user with MFA on: half signed in. */
async function halfSignedIn(email) {
  const { browser, session } = await signedIn(email);
  assert.deepEqual(session.factors, ['password']);
  assert.equal(session.provider, 'email');
  assert.equal(await needsSecondFactor(browser.account), true);
  return browser;
}

function factorsOf(mfaFactors) {
  const { totp, email, phone, recoveryCode } = mfaFactors;
  return { totp, email, phone, recoveryCode };
}

test('the MFA guide, end to end with the web SDK', async () => {
  const email = uniqueEmail();
  const phone = uniquePhone();
  let waited = 0;

  // 1. Sign up: no session is created.
  const userId = ID.unique();
  const signUpBrowser = new Browser();
  const user = await signUpBrowser.account.create({ userId, email, password: PASSWORD, name: 'Grace Hopper' });
  assert.deepEqual([user.$id, user.email, user.name, user.mfa], [userId, email, 'Grace Hopper', false]);
  assert.equal(signUpBrowser.credential, '');

  // 2. Sign in with the password: one factor; the SDK keeps the session in localStorage and says so.
  const { browser, session: firstSession } = await signedIn(email);
  const { account } = browser;
  assert.deepEqual(firstSession.factors, ['password']);
  assert.equal(firstSession.secret, '');
  assert.equal(browser.warnings.length, 1);
  assert.match(browser.warnings[0], /localStorage for session management/);
  assert.equal((await account.get()).$id, userId);

  // 3. Recovery codes first of all: ten single-use 16-hex codes.
  const { recoveryCodes } = await account.createMfaRecoveryCodes();
  assert.equal(recoveryCodes.length, 10);
  assert.equal(new Set(recoveryCodes).size, 10);
  assert.ok(recoveryCodes.every((code) => RECOVERY_CODE.test(code)), recoveryCodes.join());
  assert.equal((await account.listMfaFactors()).recoveryCode, true);

  // 4. Verify the email by the emailed link; the link's page has no session.
  const asked = await account.createVerification({ url: APP_URL });
  assert.deepEqual([asked.userId, asked.secret], [userId, '']);
  const link = await lastLink(email);
  assert.equal(`${link.origin}${link.pathname}`, APP_URL);
  assert.equal(link.searchParams.get('userId'), userId);
  const linkPage = new Browser();
  const confirmed = await linkPage.account.updateVerification({
    userId: link.searchParams.get('userId'),
    secret: link.searchParams.get('secret'),
  });
  assert.equal(confirmed.userId, userId);
  assert.equal(linkPage.credential, '');
  assert.equal((await account.get()).emailVerification, true);

  // 5. Set the phone and verify it by the texted code.
  const changed = await account.updatePhone({ phone, password: PASSWORD });
  assert.deepEqual([changed.phone, changed.phoneVerification], [phone, false]);
  const texted = await account.createPhoneVerification();
  assert.equal(texted.userId, userId);
  await new Browser().account.updatePhoneVerification({ userId, secret: await lastCode(phone) });
  assert.equal((await account.get()).phoneVerification, true);

  // 6. Add a TOTP authenticator; an authenticator app (the otpauth package) reads its URI.
  const { secret, uri } = await account.createMfaAuthenticator({ type: AuthenticatorType.Totp });
  assert.match(secret, BASE32_SECRET);
  const app = new AuthenticatorApp(uri);
  assert.deepEqual([app.totp.issuer, app.totp.label, app.totp.secret.base32], [ISSUER, email, secret]);
  const enrolled = await account.updateMfaAuthenticator({ type: AuthenticatorType.Totp, otp: await app.code() });
  assert.deepEqual([enrolled.$id, enrolled.mfa], [userId, false]);
  assert.ok((await account.getSession({ sessionId: 'current' })).factors.includes('totp'));
  assert.equal((await lastMessage(email)).subject, `Authenticator app added to your ${ISSUER} account`);

  // 7. The QR code the app shows with <img src>: the SDK builds the URL, the browser loads it without a session.
  const qrUrl = new URL(browser.avatars.getQR({ text: uri, size: 300 }));
  assert.equal(`${qrUrl.origin}${qrUrl.pathname}`, `${ENDPOINT}/avatars/qr`);
  assert.deepEqual([qrUrl.searchParams.get('text'), qrUrl.searchParams.get('project')], [uri, PROJECT]);
  assert.deepEqual((await loadPng(qrUrl)).size, [300, 300]);

  // 8. Turn MFA on: the session that did it keeps working, holding every verified factor.
  assert.equal((await account.updateMFA({ mfa: true })).mfa, true);
  assert.equal((await account.get()).mfa, true);
  const enabledSession = await account.getSession({ sessionId: 'current' });
  assert.deepEqual(new Set(enabledSession.factors), new Set(['password', 'email', 'phone', 'totp']));
  assert.equal((await lastMessage(email)).subject, `Multi-factor authentication turned on for ${ISSUER}`);

  // 9. Sign out: the SDK stores the emptied fallback, and the old credential is dead, not only forgotten.
  const credential = browser.localStorage.getItem('cookieFallback');
  await account.deleteSession({ sessionId: 'current' });
  assert.equal(browser.localStorage.getItem('cookieFallback'), '{}');
  await rejects(account.get(), 401, 'general_unauthorized_scope');
  browser.localStorage.setItem('cookieFallback', credential);
  await rejects(account.get(), 401, 'general_unauthorized_scope');

  // 10. Sign in again: the password is not enough any more, and all four factors are on offer.
  let halfway = await halfSignedIn(email);
  assert.deepEqual(factorsOf(await halfway.account.listMfaFactors()), ALL_FACTORS);

  // 11. Finish a sign-in with each factor in turn, each in a fresh browser (the first one reuses step 10's).
  const steps = [
    [AuthenticationFactor.Email, 'email', () => lastCode(email)],
    [AuthenticationFactor.Phone, 'phone', () => lastCode(phone)],
    [AuthenticationFactor.Totp, 'totp', () => app.code()],
    [AuthenticationFactor.Recoverycode, 'recoveryCode', async () => recoveryCodes[0]],
  ];
  let halfAccount;
  for (const [factor, stored, otpOf] of steps) {
    halfway ??= await halfSignedIn(email);
    halfAccount = halfway.account;
    const [challenge, pause] = await afterCooldown(halfway, () => halfAccount.createMfaChallenge({ factor }));
    waited += pause;
    assert.deepEqual(Object.keys(challenge).sort(), ['$createdAt', '$id', 'expire', 'userId']);
    assert.equal(challenge.userId, userId);
    assert.match(challenge.expire, DATETIME);
    assert.equal(Date.parse(challenge.expire) - Date.parse(challenge.$createdAt), 600_000);
    const session = await halfAccount.updateMfaChallenge({ challengeId: challenge.$id, otp: await otpOf() });
    assert.deepEqual([session.userId, session.current, session.secret], [userId, true, ''], stored);
    assert.deepEqual(session.factors, ['password', stored]);
    assert.match(session.mfaUpdatedAt, DATETIME);
    // Signed in: the gate opens, and the stored session holds the factor.
    assert.equal(await needsSecondFactor(halfAccount), false, stored);
    const current = await halfAccount.getSession({ sessionId: 'current' });
    assert.deepEqual([current.$id, current.mfaUpdatedAt], [session.$id, session.mfaUpdatedAt]);
    assert.ok(current.factors.includes(stored), stored);
    halfway = null;
  }

  // Using a recovery code is announced, with how many are left; the factor remains while codes do.
  const used = await lastMessage(email);
  assert.equal(used.subject, `A recovery code was used to sign in to ${ISSUER}`);
  assert.match(used.text, /Unused recovery codes left: 9/);
  assert.equal((await halfAccount.listMfaFactors()).recoveryCode, true);
  assert.ok(waited <= SEND_COOLDOWN_S + 5, `waited ${waited.toFixed(1)} s for send cooldowns`);
});
