// Issue 17 with the web SDK 28 in a browser on another site: self-block (`account.updateStatus`) and the activity
// log. SDK 28 has no `listLogs` (Appwrite moved logs out of Account); the route keeps Appwrite's path and LogList
// model, so a page reads it through the SDK's own transport, `client.call`, with `Query` strings. One sign-up.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Query } from 'appwrite';

import { Browser, DATETIME, ENDPOINT, PASSWORD, rejects, signUp, signedIn } from './support.mjs';

const LOG_FIELDS = [
  'event', 'userId', 'userEmail', 'userName', 'mode', 'ip', 'time', 'osCode', 'osName', 'osVersion',
  'clientType', 'clientCode', 'clientName', 'clientVersion', 'clientEngine', 'clientEngineVersion',
  'deviceName', 'deviceBrand', 'deviceModel', 'countryCode', 'countryName',
].sort();

function listLogs(browser, ...queries) {
  const params = queries.length ? { queries } : {};
  return browser.client.call('get', new URL(`${ENDPOINT}/account/logs`), {}, params);
}

test('the activity log and self-block with the web SDK', async () => {
  const { email, user } = await signUp();
  const { browser: other } = await signedIn(email);
  const stranger = new Browser().account.createEmailPasswordSession({ email, password: 'not the password' });
  await rejects(stranger, 401, 'user_invalid_credentials');
  const { browser } = await signedIn(email);

  const listed = await listLogs(browser);
  assert.equal(listed.total, 3);
  assert.deepEqual(listed.logs.map((log) => log.event), ['session.create', 'session.create.failed', 'session.create']);
  for (const log of listed.logs) {
    assert.deepEqual(Object.keys(log).sort(), LOG_FIELDS);
    assert.equal(log.userId, user.$id);
    assert.equal(log.userEmail, email);
    assert.equal(log.mode, 'user');
    assert.match(log.time, DATETIME);
  }
  const page = await listLogs(browser, Query.limit(1), Query.offset(1));
  assert.equal(page.total, 3);
  assert.deepEqual(page.logs.map((log) => log.event), ['session.create.failed']);

  const blocked = await browser.account.updateStatus();
  assert.equal(blocked.$id, user.$id);
  assert.equal(blocked.status, false);
  assert.equal(browser.localStorage.getItem('cookieFallback'), '{}'); // the answer ended this session here too
  await rejects(other.account.get(), 401, 'user_blocked'); // every session ended; its credential says why
  await rejects(new Browser().account.createEmailPasswordSession({ email, password: PASSWORD }), 401, 'user_blocked');
});
