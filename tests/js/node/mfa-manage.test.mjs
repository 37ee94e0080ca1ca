// Managing MFA with the web SDK after the guide: what needs a recent challenge (showing and regenerating recovery
// codes, removing the authenticator, MFA off), what cannot be created twice, and that regenerated codes replace the
// old ones. Run twice: with the SDK's current method names and with its deprecated upper-case MFA aliases, which
// send the same requests. Two sign-ups.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AuthenticationFactor, AuthenticatorType } from 'appwrite';

import { AuthenticatorApp, rejects, signUp, signedIn } from './support.mjs';

const CURRENT = {
  createAuthenticator: 'createMfaAuthenticator',
  updateAuthenticator: 'updateMfaAuthenticator',
  deleteAuthenticator: 'deleteMfaAuthenticator',
  createRecoveryCodes: 'createMfaRecoveryCodes',
  getRecoveryCodes: 'getMfaRecoveryCodes',
  updateRecoveryCodes: 'updateMfaRecoveryCodes',
  listFactors: 'listMfaFactors',
  createChallenge: 'createMfaChallenge',
  updateChallenge: 'updateMfaChallenge',
};
const DEPRECATED = {
  createAuthenticator: 'createMFAAuthenticator',
  updateAuthenticator: 'updateMFAAuthenticator',
  deleteAuthenticator: 'deleteMFAAuthenticator',
  createRecoveryCodes: 'createMFARecoveryCodes',
  getRecoveryCodes: 'getMFARecoveryCodes',
  updateRecoveryCodes: 'updateMFARecoveryCodes',
  listFactors: 'listMFAFactors',
  createChallenge: 'createMFAChallenge',
  updateChallenge: 'updateMFAChallenge',
};

/** Complete a recovery-code challenge in this browser's session; returns the Session. */
async function answerWithRecoveryCode(account, names, code) {
  const challenge = await account[names.createChallenge]({ factor: AuthenticationFactor.Recoverycode });
  return account[names.updateChallenge]({ challengeId: challenge.$id, otp: code });
}

async function manageMfa(names) {
  const { email, user } = await signUp();
  const { browser } = await signedIn(email);
  const { account } = browser;
  const call = (name, params) => account[names[name]](params);

  // Set up: recovery codes, a verified authenticator, MFA on. Neither can be created twice.
  const { recoveryCodes } = await call('createRecoveryCodes');
  await rejects(call('createRecoveryCodes'), 409, 'user_recovery_codes_already_exists');
  const { uri } = await call('createAuthenticator', { type: AuthenticatorType.Totp });
  const app = new AuthenticatorApp(uri);
  await call('updateAuthenticator', { type: AuthenticatorType.Totp, otp: await app.code() });
  const second = call('createAuthenticator', { type: AuthenticatorType.Totp });
  await rejects(second, 409, 'user_authenticator_already_verified');
  assert.equal((await account.updateMFA({ mfa: true })).mfa, true);
  const factors = await call('listFactors');
  assert.deepEqual([factors.totp, factors.email, factors.phone, factors.recoveryCode], [true, false, false, true]);

  // Without a challenge completed by this session, the sensitive actions are refused; a challenge with a factor
  // this session made itself (the codes, the authenticator) is no step-up either (API.md §7).
  const refusedAll = async () => {
    await rejects(call('getRecoveryCodes'), 401, 'user_challenge_required');
    await rejects(call('updateRecoveryCodes'), 401, 'user_challenge_required');
    await rejects(call('deleteAuthenticator', { type: AuthenticatorType.Totp }), 401, 'user_challenge_required');
    await rejects(account.updateMFA({ mfa: false }), 401, 'user_challenge_required');
  };
  await refusedAll();
  const own = await answerWithRecoveryCode(account, names, recoveryCodes[0]);
  assert.ok(own.factors.includes('recoveryCode'), own.factors.join());
  await refusedAll();

  // After one in a later sign-in (the codes are older than it), the codes can be shown and regenerated; the
  // fresh set replaces the old one.
  const { browser: later } = await signedIn(email);
  const inLater = (name, params) => later.account[names[name]](params);
  await answerWithRecoveryCode(later.account, names, recoveryCodes[1]);
  assert.deepEqual((await inLater('getRecoveryCodes')).recoveryCodes, recoveryCodes.slice(2)); // the unused ones
  const fresh = (await inLater('updateRecoveryCodes')).recoveryCodes;
  assert.equal(fresh.length, 10);
  assert.ok(fresh.every((code) => !recoveryCodes.includes(code)), 'regenerated codes repeat old ones');

  // A browser half signed in may sign out (DELETE /account/sessions/current is exempt from the MFA gate).
  const { browser: quitter } = await signedIn(email);
  await rejects(quitter.account.get(), 401, 'user_more_factors_required');
  await quitter.account.deleteSession({ sessionId: 'current' });
  assert.equal(quitter.credential, '');

  // Another browser, half signed in, cannot finish with an old code but can with a fresh one.
  const { browser: other } = await signedIn(email);
  await rejects(answerWithRecoveryCode(other.account, names, recoveryCodes[2]), 401, 'user_invalid_token');
  await answerWithRecoveryCode(other.account, names, fresh[0]);
  assert.equal((await other.account.get()).$id, user.$id);

  // Remove the authenticator and turn MFA off (the fresh codes are older than that browser's session): a
  // password alone signs in again.
  await other.account[names.deleteAuthenticator]({ type: AuthenticatorType.Totp });
  assert.equal((await call('listFactors')).totp, false);
  assert.equal((await other.account.updateMFA({ mfa: false })).mfa, false);
  const { browser: third } = await signedIn(email);
  assert.equal((await third.account.get()).mfa, false);
}

test('MFA management with the current method names', () => manageMfa(CURRENT));

test('MFA management with the deprecated MFA aliases', () => manageMfa(DEPRECATED));
