// Avatars.getQR: the SDK only builds a URL (with the project in the query); a page loads it with <img src>, so it
// must answer PNG bytes without a session, honouring size, margin and download. The SDK's other avatars are not
// served (see unserved.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Browser, ENDPOINT, PROJECT, loadPng } from './support.mjs';

test('getQR builds a URL that answers a PNG of the asked size', async () => {
  const { avatars } = new Browser();
  const text = 'otpauth://totp/My%20App:ada%40example.com?secret=6EPZHYD767ZAEVZ757H236SFUELVTWD6&issuer=My%20App';

  const url = new URL(avatars.getQR({ text, size: 300 }));
  assert.equal(`${url.origin}${url.pathname}`, `${ENDPOINT}/avatars/qr`);
  assert.deepEqual([url.searchParams.get('text'), url.searchParams.get('project')], [text, PROJECT]);
  const shown = await loadPng(url);
  assert.deepEqual(shown.size, [300, 300]);
  assert.equal(shown.response.headers.get('content-disposition'), null);

  const { size: defaultSize } = await loadPng(avatars.getQR({ text }));
  assert.deepEqual(defaultSize, [400, 400]);

  const downloaded = await loadPng(avatars.getQR({ text: 'Grüße, 日本', size: 120, margin: 0, download: true }));
  assert.deepEqual(downloaded.size, [120, 120]);
  assert.equal(downloaded.response.headers.get('content-disposition'), 'attachment; filename="qr.png"');
});
