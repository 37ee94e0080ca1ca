// JWTs with the web SDK (API.md §8): account.createJWT, a JWT as the credential of another client (setJWT), and
// the token verified by Node's own crypto with nothing but the discovery document and the JWKS it points at.
// One sign-up.
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';

import { Account, Client } from 'appwrite';

import { Browser, ENDPOINT, PROJECT, rejects, signUp, signedIn } from './support.mjs';

const part = (token, index) => JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString());

/** What another team's service does: discovery -> jwks_uri -> the key named by `kid` -> RS256 signature. */
async function verifiedClaims(token) {
  const discovery = await (await fetch(`${ENDPOINT}/.well-known/openid-configuration`)).json();
  const { keys } = await (await fetch(discovery.jwks_uri)).json();
  const header = part(token, 0);
  assert.deepEqual(discovery.id_token_signing_alg_values_supported, [header.alg]);
  const key = keys.find((candidate) => candidate.kid === header.kid);
  assert.ok(key, 'the JWKS lacks the key named by kid');
  const [head, payload, signature] = token.split('.');
  const valid = verify('RSA-SHA256', Buffer.from(`${head}.${payload}`), createPublicKey({ key, format: 'jwk' }),
    Buffer.from(signature, 'base64url'));
  assert.ok(valid, 'the signature does not verify');
  const claims = part(token, 1);
  assert.equal(claims.iss, discovery.issuer);
  return claims;
}

test('createJWT, then the JWT as the credential of a client with no session', async () => {
  const { email, user } = await signUp();
  const { browser, session } = await signedIn(email);

  const { jwt } = await browser.account.createJWT({ duration: 300 });
  const claims = await verifiedClaims(jwt);
  assert.deepEqual([claims.sub, claims.sid, claims.aud, claims.amr], [user.$id, session.$id, PROJECT, ['password']]);
  assert.equal(claims.exp - claims.iat, 300);
  assert.equal(claims.iss, ENDPOINT);

  const withJwt = new Account(new Client().setEndpoint(ENDPOINT).setProject(PROJECT).setJWT(jwt));
  assert.equal((await withJwt.get()).$id, user.$id);
  assert.equal((await withJwt.getSession({ sessionId: 'current' })).$id, session.$id);

  await rejects(browser.account.createJWT({ duration: 3601 }), 400, 'general_argument_invalid');
  await rejects(new Browser().account.createJWT(), 401, 'general_unauthorized_scope');

  // Ending the session ends the JWT here (a verifier elsewhere accepts it until `exp`: docs/security.md).
  await browser.account.deleteSession({ sessionId: 'current' });
  await rejects(withJwt.get(), 401, 'general_unauthorized_scope');
});
