// Every field the web SDK's own model types (appwrite/types/models.d.ts) declare as required is in our answers:
// User, Session, SessionList, Token, MfaType, MfaRecoveryCodes, MfaFactors and MfaChallenge, each as the SDK call
// that returns it receives it. The user signs in with an emailed code (no sign-up through POST /account).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

import { AuthenticationFactor, AuthenticatorType, ID } from 'appwrite';

import { Browser, lastCode, rejects, uniqueEmail } from './support.mjs';

const MODELS_DTS = join(
  dirname(createRequire(import.meta.url).resolve('appwrite/package.json')),
  'types',
  'models.d.ts',
);

/** The required fields of `export type <name> = { ... }` in the SDK's models.d.ts. */
function requiredFields(name) {
  const source = readFileSync(MODELS_DTS, 'utf8');
  const body = source.match(new RegExp(`\\n {4}export type ${name}(?:<[^>]*>)? = \\{\\n(.*?)\\n {4}\\};`, 's'));
  assert.ok(body, `no type ${name} in ${MODELS_DTS}`);
  return [...body[1].matchAll(/^ {8}("?[$\w]+"?)(\??):/gm)]
    .filter(([, , optional]) => !optional)
    .map(([, field]) => field.replaceAll('"', ''));
}

function assertHasFields(model, answer) {
  const missing = requiredFields(model).filter((field) => !Object.hasOwn(answer, field));
  assert.deepEqual(missing, [], `${model} answer lacks ${missing.join(', ')}: ${JSON.stringify(answer)}`);
}

test('our answers carry every field the SDK model types require', async (t) => {
  const email = uniqueEmail();
  const browser = new Browser();
  const { account } = browser;
  const answers = {};
  answers.Token = await account.createEmailToken({ userId: ID.unique(), email });
  answers.Session = await account.createSession({ userId: answers.Token.userId, secret: await lastCode(email) });
  answers.User = await account.get();
  answers.SessionList = await account.listSessions();
  answers.MfaRecoveryCodes = await account.createMfaRecoveryCodes();
  answers.MfaType = await account.createMfaAuthenticator({ type: AuthenticatorType.Totp });
  answers.MfaFactors = await account.listMfaFactors();
  answers.MfaChallenge = await account.createMfaChallenge({ factor: AuthenticationFactor.Recoverycode });

  for (const [model, answer] of Object.entries(answers)) {
    await t.test(model, () => assertHasFields(model, answer));
  }
  // The SDK also offers a "custom" factor, which this API does not have.
  await rejects(account.createMfaChallenge({ factor: AuthenticationFactor.Custom }), 400, 'general_argument_invalid');
});
