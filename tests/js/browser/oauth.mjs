// Social sign-in in headless Chromium: the Appwrite web SDK's createOAuth2Session URL, the OpenID Connect
// provider's own login and consent pages (clicked through like a user), back through the API's callback to
// the app's success URL (the demo page, /__dev/demo/, on the API's origin), where the web SDK finds the
// session the callback set and shows the account.
//
//   node tests/js/browser/oauth.mjs --endpoint http://127.0.0.1:3000/v1 --login ada@example.com
//
// Exit code 0 on success; on failure it prints what went wrong and the pages visited.
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { Account, Client } from 'appwrite';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const { values: options } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    login: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});
assert.ok(options.endpoint && options.login, 'usage: oauth.mjs --endpoint <API /v1 URL> --login <email>');
const endpoint = new URL(options.endpoint);
const app = new URL('/__dev/demo/', endpoint).href;

// Outside a browser the SDK returns the URL it would navigate to: exactly what an app's click does.
const account = new Account(new Client().setEndpoint(endpoint.href).setProject('default'));
const start = account.createOAuth2Session({ provider: 'oidc', success: app, failure: `${app}?failed=1` });

const visited = [];
const browser = await chromium.launch({ executablePath: options.chromium, args: CHROMIUM_ARGS });
let failed = false;
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('framenavigated', (frame) => frame === page.mainFrame() && visited.push(frame.url()));
  await page.goto(start);
  // The provider's login page (oidc-provider's development interactions): any password signs in.
  await page.fill('input[name=login]', options.login);
  await page.fill('input[name=password]', 'any password');
  await page.click('button[type=submit]');
  // Its consent page: allow the app the scopes it asked for.
  await page.waitForSelector('button[autofocus]');
  assert.match(await page.textContent('body'), /email/, 'the consent page names the scopes');
  await page.click('button[autofocus]');
  await page.waitForURL(app);
  // The demo page's SDK calls account.get() with the cookie the callback set: the session is usable.
  await page.waitForFunction(() => !document.body.dataset.busy && !document.getElementById('account').hidden);
  assert.equal(await page.textContent('#account-email'), options.login);
  assert.equal(await page.textContent('#account-verified'), 'yes');
  assert.equal(await page.textContent('#account-factors'), 'oauth2');
  const cookies = (await context.cookies(endpoint.origin)).map((cookie) => cookie.name).sort();
  assert.deepEqual(cookies, ['a_session_default', 'a_session_default_legacy']);
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.stack}\n\nPages:\n  ${visited.join('\n  ')}`);
} finally {
  await browser.close();
}
console.log(failed ? 'FAILED' : `ok (${visited.length} pages)`);
process.exit(failed ? 1 : 0);
