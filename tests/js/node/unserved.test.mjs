// The web SDK's methods this API does not serve (consents, push targets, client.ping, and every avatar but the QR
// code): each fails cleanly, as the SDK expects an unknown route to, with an AppwriteException 404
// general_route_not_found, never a 5xx or a non-JSON answer. No sign-up.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Browser, ENDPOINT, rejects } from './support.mjs';

const PASSWORD = 'a long enough password';
const URL_PARAM = 'http://localhost:3000/page';

const UNSERVED_ACCOUNT_CALLS = {
  listConsents: (a) => a.listConsents(),
  getConsent: (a) => a.getConsent({ consentId: 'c1' }),
  deleteConsent: (a) => a.deleteConsent({ consentId: 'c1' }),
  listConsentTokens: (a) => a.listConsentTokens({ consentId: 'c1' }),
  getConsentToken: (a) => a.getConsentToken({ consentId: 'c1', tokenId: 't1' }),
  deleteConsentToken: (a) => a.deleteConsentToken({ consentId: 'c1', tokenId: 't1' }),
  createPushTarget: (a) => a.createPushTarget({ targetId: 'p1', identifier: 'device' }),
  updatePushTarget: (a) => a.updatePushTarget({ targetId: 'p1', identifier: 'device' }),
  deletePushTarget: (a) => a.deletePushTarget({ targetId: 'p1' }),
};

// URL builders: avatars load them with <img src> (the OAuth2 ones: oauth.test.mjs).
const UNSERVED_URLS = {
  getBrowser: (b) => b.avatars.getBrowser({ code: 'ch' }),
  getCreditCard: (b) => b.avatars.getCreditCard({ code: 'visa' }),
  getFavicon: (b) => b.avatars.getFavicon({ url: 'https://example.com' }),
  getFlag: (b) => b.avatars.getFlag({ code: 'fr' }),
  getImage: (b) => b.avatars.getImage({ url: 'https://example.com/a.png' }),
  getInitials: (b) => b.avatars.getInitials({ name: 'Ada Lovelace' }),
  getPhoto: (b) => b.avatars.getPhoto({ url: 'https://example.com/a.png' }),
  getScreenshot: (b) => b.avatars.getScreenshot({ url: 'https://example.com' }),
};

test('unserved account methods answer 404 general_route_not_found', async (t) => {
  for (const [name, call] of Object.entries(UNSERVED_ACCOUNT_CALLS)) {
    await t.test(name, () => rejects(call(new Browser().account), 404, 'general_route_not_found'));
  }
});

test('client.ping answers 404 general_route_not_found', () =>
  rejects(new Browser().client.ping(), 404, 'general_route_not_found'));

test('unserved URL builders point at 404 general_route_not_found', async (t) => {
  for (const [name, build] of Object.entries(UNSERVED_URLS)) {
    await t.test(name, async () => {
      const url = build(new Browser());
      assert.ok(url.startsWith(`${ENDPOINT}/`), url);
      const response = await fetch(url);
      assert.equal(response.status, 404);
      assert.equal((await response.json()).type, 'general_route_not_found');
    });
  }
});
