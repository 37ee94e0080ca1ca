// Sessions with the web SDK in browsers on another site than the API: Node's fetch keeps no cookies, so the
// X-Fallback-Cookies value the SDK keeps in localStorage is the only credential. Listing, reading, extending and
// ending sessions, one or all. One sign-up.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Browser, COOKIE, DATETIME, PASSWORD, rejects, signUp, signedIn } from './support.mjs';

test('the fallback credential in localStorage is the session, and only it', async () => {
  const { email, user } = await signUp();
  const { browser, session } = await signedIn(email);

  // The request carried the stored header and no cookie, although the sign-in answer set cookies.
  await browser.account.get();
  const { requestHeaders } = browser.lastExchange;
  assert.equal(requestHeaders['X-Fallback-Cookies'], JSON.stringify({ [COOKIE]: browser.credential }));
  assert.ok(!Object.keys(requestHeaders).some((name) => name.toLowerCase() === 'cookie'));

  // Another profile with a copy of that localStorage entry is signed in as the same session...
  const copy = new Browser();
  copy.localStorage.setItem('cookieFallback', browser.localStorage.getItem('cookieFallback'));
  assert.equal((await copy.account.getSession({ sessionId: 'current' })).$id, session.$id);
  // ...and without it, or with a damaged one, nothing is.
  browser.localStorage.clear();
  await rejects(browser.account.get(), 401, 'general_unauthorized_scope');
  for (const damaged of ['not json', JSON.stringify({ [COOKIE]: 'bm90IGEgY3JlZGVudGlhbA' }), '[]']) {
    browser.localStorage.setItem('cookieFallback', damaged);
    await rejects(browser.account.get(), 401, 'general_unauthorized_scope');
  }
  await rejects(new Browser().account.listSessions(), 401, 'general_unauthorized_scope');
  assert.equal((await copy.account.get()).$id, user.$id);
});

test('list, read, extend and end sessions with the web SDK', async () => {
  const { email, user } = await signUp();
  const { browser: first, session: firstSession } = await signedIn(email);
  const { browser: second, session: secondSession } = await signedIn(email);

  const listed = await first.account.listSessions();
  assert.equal(listed.total, 2);
  assert.deepEqual(listed.sessions.map((s) => s.$id).sort(), [firstSession.$id, secondSession.$id].sort());
  assert.deepEqual(
    listed.sessions.filter((s) => s.current).map((s) => s.$id),
    [firstSession.$id],
  );

  const current = await first.account.getSession({ sessionId: 'current' });
  assert.deepEqual(
    [current.$id, current.userId, current.current, current.secret],
    [firstSession.$id, user.$id, true, ''],
  );
  const other = await first.account.getSession({ sessionId: secondSession.$id });
  assert.deepEqual([other.$id, other.current, other.provider], [secondSession.$id, false, 'email']);

  const extended = await first.account.updateSession({ sessionId: 'current' });
  assert.equal(extended.$id, firstSession.$id);
  assert.match(extended.expire, DATETIME);
  assert.ok(Date.parse(extended.expire) >= Date.parse(firstSession.expire));

  // Ending another session by id signs that browser out only.
  await first.account.deleteSession({ sessionId: secondSession.$id });
  await rejects(second.account.get(), 401, 'general_unauthorized_scope');
  await rejects(first.account.getSession({ sessionId: secondSession.$id }), 404, 'user_session_not_found');
  assert.equal((await first.account.listSessions()).total, 1);

  // Ending them all signs out every browser; the one that did it also drops its stored credential.
  const { browser: third } = await signedIn(email);
  await first.account.deleteSessions();
  assert.equal(first.localStorage.getItem('cookieFallback'), '{}');
  await rejects(first.account.get(), 401, 'general_unauthorized_scope');
  await rejects(third.account.get(), 401, 'general_unauthorized_scope');

  // A browser still holding a dead credential signs in again as usual.
  await third.account.createEmailPasswordSession({ email, password: PASSWORD });
  assert.equal((await third.account.get()).$id, user.$id);
});
