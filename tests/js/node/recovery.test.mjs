// Password recovery through the web SDK (createRecovery / updateRecovery by link, createRecoveryOTP /
// updateRecoveryOTP by code): the reset ends every session and leaves MFA on; an email no account holds gets the
// same answer and no message. Two sign-ups through POST /account.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AuthenticatorApp,
  Browser,
  DATETIME,
  outbox,
  lastCode,
  lastLink,
  lastMessage,
  rejects,
  signUp,
  signedIn,
  uniqueEmail,
} from './support.mjs';

const RESET_URL = 'http://localhost:3000/reset';
const NEW_PASSWORD = 'a password chosen after forgetting';

test('forgot password by link, with MFA on: every session ends and the gate stays', async () => {
  const { email, user } = await signUp();
  const { browser: signedInBrowser } = await signedIn(email);
  const { uri } = await signedInBrowser.account.createMfaAuthenticator({ type: 'totp' });
  const app = new AuthenticatorApp(uri);
  await signedInBrowser.account.updateMfaAuthenticator({ type: 'totp', otp: await app.code() });
  assert.equal((await signedInBrowser.account.updateMFA({ mfa: true })).mfa, true);

  const browser = new Browser();
  const token = await browser.account.createRecovery({ email, url: RESET_URL });
  assert.deepEqual([token.userId, token.secret], [user.$id, '']);
  assert.match(token.expire, DATETIME);
  const link = await lastLink(email);
  assert.equal(link.origin + link.pathname, RESET_URL);
  assert.deepEqual([link.searchParams.get('userId'), link.searchParams.get('expire')], [user.$id, token.expire]);

  const done = await browser.account.updateRecovery({
    userId: link.searchParams.get('userId'),
    secret: link.searchParams.get('secret'),
    password: NEW_PASSWORD,
  });
  assert.equal(done.$id, token.$id);
  await rejects(signedInBrowser.account.get(), 401, 'general_unauthorized_scope');
  const replay = browser.account.updateRecovery({
    userId: user.$id,
    secret: link.searchParams.get('secret'),
    password: 'yet another password',
  });
  await rejects(replay, 401, 'user_invalid_token');

  const { browser: after } = await signedIn(email, NEW_PASSWORD);
  await rejects(after.account.get(), 401, 'user_more_factors_required');
});

test('forgot password by code, and an unknown email gets the same answer', async () => {
  const { email, user } = await signUp();
  const browser = new Browser();
  const token = await browser.account.createRecoveryOTP({ email, phrase: true });
  assert.equal(token.userId, user.$id);
  assert.ok(token.phrase && (await lastMessage(email)).text.includes(token.phrase));
  const code = await lastCode(email);
  const wrong = code === '000000' ? '111111' : '000000';
  await rejects(
    browser.account.updateRecoveryOTP({ userId: user.$id, secret: wrong, password: NEW_PASSWORD }),
    401,
    'user_invalid_token',
  );
  await browser.account.updateRecoveryOTP({ userId: token.userId, secret: code, password: NEW_PASSWORD });
  assert.equal((await signedIn(email, NEW_PASSWORD)).session.userId, user.$id);

  const nobody = uniqueEmail();
  const standIn = await browser.account.createRecoveryOTP({ email: nobody });
  assert.deepEqual(Object.keys(standIn).sort(), Object.keys(token).sort());
  assert.match(standIn.userId, /^[0-9a-f]{20}$/);
  assert.equal((await outbox()).filter((message) => message.to === nobody).length, 0);
  await rejects(browser.account.createRecovery({ email, url: 'https://evil.example/reset' }), 400, 'general_argument_invalid');
});
