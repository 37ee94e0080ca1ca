// Issue 17 through the web SDK 28: sign-in with an emailed link (createMagicURLToken, then createSession or the
// deprecated updateMagicURLSession / updatePhoneSession), email verification by code (createEmailVerificationOTP /
// updateEmailVerificationOTP) and anonymous sessions (createAnonymousSession, then updateEmail and updatePassword
// make a normal account). No sign-up through POST /account; 2 anonymous sessions.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ID } from 'appwrite';

import {
  APP_URL,
  Browser,
  PASSWORD,
  lastCode,
  lastLink,
  lastMessage,
  rejects,
  signedIn,
  uniqueEmail,
  uniquePhone,
} from './support.mjs';

test('sign in with an emailed link, once', async () => {
  const browser = new Browser();
  const email = uniqueEmail();
  const token = await browser.account.createMagicURLToken({ userId: ID.unique(), email, url: APP_URL, phrase: true });
  assert.equal(token.secret, '');
  assert.ok((await lastMessage(email)).text.includes(token.phrase), 'the email does not show the phrase');
  const link = await lastLink(email);
  assert.equal(`${link.origin}${link.pathname}`, APP_URL);
  const userId = link.searchParams.get('userId');
  const secret = link.searchParams.get('secret');
  assert.equal(userId, token.userId);
  const session = await browser.account.createSession({ userId, secret });
  assert.deepEqual([session.provider, session.factors, session.providerUid], ['magic-url', ['email'], email]);
  assert.ok(browser.credential, 'the SDK stored no X-Fallback-Cookies credential');
  const me = await browser.account.get();
  assert.deepEqual([me.$id, me.email, me.emailVerification], [userId, email, true]);
  await rejects(new Browser().account.createSession({ userId, secret }), 401, 'user_invalid_token');
});

test('a link to a foreign site is refused', () =>
  rejects(
    new Browser().account.createMagicURLToken({
      userId: ID.unique(),
      email: uniqueEmail(),
      url: 'https://evil.example/',
    }),
    400,
    'general_argument_invalid',
  ));

test('the deprecated updateMagicURLSession and updatePhoneSession sign in', async () => {
  const email = uniqueEmail();
  await new Browser().account.createMagicURLToken({ userId: ID.unique(), email, url: APP_URL });
  const link = await lastLink(email);
  const browser = new Browser();
  const session = await browser.account.updateMagicURLSession({
    userId: link.searchParams.get('userId'),
    secret: link.searchParams.get('secret'),
  });
  assert.equal(session.provider, 'magic-url');
  assert.equal((await browser.account.get()).email, email);

  const phone = uniquePhone();
  const token = await new Browser().account.createPhoneToken({ userId: ID.unique(), phone });
  const texted = new Browser();
  const phoneSession = await texted.account.updatePhoneSession({ userId: token.userId, secret: await lastCode(phone) });
  assert.deepEqual([phoneSession.provider, phoneSession.factors], ['phone', ['phone']]);
});

test('an anonymous session becomes a normal account, whose email a code verifies', async () => {
  const browser = new Browser();
  const session = await browser.account.createAnonymousSession();
  assert.deepEqual([session.provider, session.factors], ['anonymous', ['anonymous']]);
  await rejects(browser.account.createAnonymousSession(), 401, 'user_session_already_exists');
  const email = uniqueEmail();
  assert.equal((await browser.account.updateEmail({ email, password: '' })).email, email);
  await browser.account.updatePassword({ password: PASSWORD });
  assert.equal((await signedIn(email)).session.userId, session.userId);

  const token = await browser.account.createEmailVerificationOTP({ phrase: true });
  assert.equal(token.userId, session.userId);
  assert.ok((await lastMessage(email)).text.includes(token.phrase));
  const code = await lastCode(email);
  const wrong = code === '000000' ? '111111' : '000000';
  await rejects(
    browser.account.updateEmailVerificationOTP({ userId: token.userId, secret: wrong }),
    401,
    'user_invalid_token',
  );
  const verified = await browser.account.updateEmailVerificationOTP({ userId: token.userId, secret: code });
  assert.equal(verified.$id, token.$id);
  assert.equal((await browser.account.get()).emailVerification, true);
});
