// Sign-in with a one-time code by email or SMS through the web SDK (createEmailToken / createPhoneToken, then
// createSession): a new address gets a new account, the code proves the address, and the factor that started a
// session cannot also be its second factor. No sign-up through POST /account.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AuthenticationFactor, ID } from 'appwrite';

import {
  Browser,
  DATETIME,
  PASSWORD,
  lastCode,
  lastMessage,
  rejects,
  signedIn,
  uniqueEmail,
  uniquePhone,
} from './support.mjs';

/** Ask for a code with `createToken`, then exchange it in the same browser; checks the Token and Session. */
async function codeSignIn(createToken, to, provider) {
  const browser = new Browser();
  const token = await createToken(browser.account);
  assert.equal(token.secret, '');
  const code = await lastCode(to);
  const wrong = code === '000000' ? '111111' : '000000';
  await rejects(browser.account.createSession({ userId: token.userId, secret: wrong }), 401, 'user_invalid_token');
  const session = await browser.account.createSession({ userId: token.userId, secret: code });
  assert.deepEqual([session.userId, session.provider, session.providerUid], [token.userId, provider, to]);
  assert.ok(browser.credential, 'the SDK stored no X-Fallback-Cookies credential');
  const again = browser.account.createSession({ userId: token.userId, secret: code });
  await rejects(again, 401, 'user_session_already_exists');
  return { browser, token, session };
}

test('sign in with an emailed code and a security phrase', async () => {
  const email = uniqueEmail();
  const { browser, token, session } = await codeSignIn(
    (account) => account.createEmailToken({ userId: ID.unique(), email, phrase: true }),
    email,
    'token',
  );
  assert.ok(token.phrase, 'no security phrase');
  assert.ok((await lastMessage(email)).text.includes(token.phrase), 'the email does not show the phrase');
  assert.deepEqual(session.factors, ['email']);
  const me = await browser.account.get();
  assert.deepEqual([me.$id, me.email, me.emailVerification, me.passwordUpdate], [token.userId, email, true, '']);
  // A user without a password sets one without an old one, and can then sign in with it.
  const withPassword = await browser.account.updatePassword({ password: PASSWORD });
  assert.match(withPassword.passwordUpdate, DATETIME);
  assert.equal((await signedIn(email)).session.userId, token.userId);

  // The emailed code started this session: an email challenge cannot be its second factor.
  await rejects(
    browser.account.createMfaChallenge({ factor: AuthenticationFactor.Email }),
    400,
    'general_argument_invalid',
  );
});

test('sign in with a texted code', async () => {
  const phone = uniquePhone();
  const { browser, token, session } = await codeSignIn(
    (account) => account.createPhoneToken({ userId: ID.unique(), phone }),
    phone,
    'phone',
  );
  assert.equal(token.phrase, '');
  assert.deepEqual(session.factors, ['phone']);
  const me = await browser.account.get();
  assert.deepEqual([me.$id, me.phone, me.phoneVerification, me.email], [token.userId, phone, true, '']);
  // Without a password, an email is added with an empty one (the SDK requires the parameter).
  const email = uniqueEmail();
  const withEmail = await browser.account.updateEmail({ email, password: '' });
  assert.deepEqual([withEmail.email, withEmail.emailVerification], [email, false]);
});
