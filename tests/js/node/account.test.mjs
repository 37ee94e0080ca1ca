// The account methods of the web SDK: sign-up, profile (name, prefs, email, phone, password), email verification
// through the SDK's current method names, and the errors an app branches on. Two sign-up attempts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ID } from 'appwrite';

import {
  APP_URL,
  Browser,
  PASSWORD,
  lastLink,
  rejects,
  signedIn,
  uniqueEmail,
  uniquePhone,
} from './support.mjs';

const NEW_PASSWORD = 'another horse battery staple';

/** A JSON copy: the SDK parses objects without a prototype, which strict deepEqual tells apart from `{}`. */
const plain = (value) => JSON.parse(JSON.stringify(value));

test('sign up, edit the profile and verify a changed email with the web SDK', async () => {
  const email = uniqueEmail();
  const userId = ID.unique();
  const anonymous = new Browser().account;
  const user = await anonymous.create({ userId, email, password: PASSWORD, name: 'Ada' });
  assert.deepEqual([user.$id, user.name, user.email, user.phone], [userId, 'Ada', email, '']);
  assert.deepEqual([user.emailVerification, user.phoneVerification, user.mfa], [false, false, false]);
  assert.deepEqual(plain(user.prefs), {});
  await rejects(anonymous.create({ userId: ID.unique(), email, password: PASSWORD }), 409, 'user_already_exists');

  const { browser } = await signedIn(email);
  const { account } = browser;
  // A second sign-in from a browser that holds a session is refused.
  await rejects(account.createEmailPasswordSession({ email, password: PASSWORD }), 401, 'user_session_already_exists');

  assert.equal((await account.updateName({ name: 'Ada Lovelace' })).name, 'Ada Lovelace');
  const prefs = { theme: 'dark', fontSize: 14, tags: ['a', 'b'] };
  assert.deepEqual(plain((await account.updatePrefs({ prefs })).prefs), prefs);
  assert.deepEqual(plain(await account.getPrefs()), prefs);

  // Changing the email needs the password, and the new address starts unverified (stored lower-cased).
  const newEmail = uniqueEmail();
  await rejects(account.updateEmail({ email: newEmail, password: 'wrong password!' }), 401, 'user_invalid_credentials');
  const moved = await account.updateEmail({ email: newEmail.toUpperCase(), password: PASSWORD });
  assert.deepEqual([moved.email, moved.emailVerification], [newEmail, false]);

  // Verify it with the SDK's current method names (the plural /account/verifications/email path).
  const token = await account.createEmailVerification({ url: APP_URL });
  assert.deepEqual([token.userId, token.secret], [userId, '']);
  const link = await lastLink(newEmail);
  await new Browser().account.updateEmailVerification({
    userId: link.searchParams.get('userId'),
    secret: link.searchParams.get('secret'),
  });
  assert.equal((await account.get()).emailVerification, true);
  await rejects(account.createEmailVerification({ url: APP_URL }), 409, 'user_email_already_verified');

  const phone = uniquePhone();
  await rejects(account.updatePhone({ phone: '+10000000000', password: PASSWORD }), 400, 'general_argument_invalid');
  const withPhone = await account.updatePhone({ phone, password: PASSWORD });
  assert.deepEqual([withPhone.phone, withPhone.phoneVerification], [phone, false]);

  // The password: the old one is needed, then only the new one signs in.
  await rejects(
    account.updatePassword({ password: NEW_PASSWORD, oldPassword: 'wrong password!' }),
    401,
    'user_invalid_credentials',
  );
  const changed = await account.updatePassword({ password: NEW_PASSWORD, oldPassword: PASSWORD });
  assert.equal(changed.$id, userId);
  await rejects(
    new Browser().account.createEmailPasswordSession({ email: newEmail, password: PASSWORD }),
    401,
    'user_invalid_credentials',
  );
  const { browser: again } = await signedIn(newEmail, NEW_PASSWORD);
  const me = await again.account.get();
  assert.deepEqual([me.name, me.email, me.phone], ['Ada Lovelace', newEmail, phone]);
  assert.deepEqual(plain(me.prefs), prefs);
});
