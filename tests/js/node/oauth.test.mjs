// Social sign-in through the web SDK on a deployment without a configured provider (the flows themselves run
// against a real OpenID Connect provider in tests/e2e/test_oauth.py, in Chromium too): the OAuth2 URLs the SDK
// builds answer Appwrite's JSON 412 project_provider_disabled, never a redirect; createIdTokenSession the same;
// identities need a session. No sign-up.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Browser, ENDPOINT, rejects } from './support.mjs';

const APP = 'http://localhost:3000/page';

for (const name of ['createOAuth2Session', 'createOAuth2Token']) {
  test(`${name} URL answers 412 project_provider_disabled`, async () => {
    const url = new Browser().account[name]({ provider: 'google', success: APP, failure: APP });
    assert.ok(url.startsWith(`${ENDPOINT}/account/`), url);
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 412);
    assert.equal((await response.json()).type, 'project_provider_disabled');
  });
}

test('createIdTokenSession answers 412 project_provider_disabled', () =>
  rejects(new Browser().account.createIdTokenSession({ provider: 'google', idToken: 'x' }), 412, 'project_provider_disabled'));

test('identities need a session', async () => {
  await rejects(new Browser().account.listIdentities(), 401, 'general_unauthorized_scope');
  await rejects(new Browser().account.deleteIdentity({ identityId: 'i1' }), 401, 'general_unauthorized_scope');
});
