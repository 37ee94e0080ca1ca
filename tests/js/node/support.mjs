// Shared helpers for the Appwrite web SDK suite in Node: a browser-like `window` whose localStorage makes the SDK
// keep its session through the X-Fallback-Cookies path, the dev outbox, TOTP codes and error checks.
//
// Run: AUTHCORE_ENDPOINT=http://127.0.0.1:PORT/v1 node --test tests/js/node/
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Account, AppwriteException, Avatars, Client, ID } from 'appwrite';
import * as OTPAuth from 'otpauth';

export const ENDPOINT = process.env.AUTHCORE_ENDPOINT ?? '';
if (!/^https?:\/\/.+\/v1$/.test(ENDPOINT)) {
  throw new Error('set AUTHCORE_ENDPOINT to the API base URL, e.g. http://127.0.0.1:3000/v1');
}
export const ORIGIN = ENDPOINT.slice(0, -'/v1'.length);
export const PROJECT = 'default';
export const COOKIE = `a_session_${PROJECT}`;
export const PASSWORD = 'correct horse battery staple';
export const ISSUER = 'My App'; // the local stack's ProjectName
export const APP_URL = 'http://localhost:3000/verify'; // on the local stack's AllowedOrigins
export const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;
export const SEND_COOLDOWN_S = 60; // API.md §5: one email or SMS per destination per minute
const FALLBACK_KEY = 'cookieFallback'; // where the SDK keeps the X-Fallback-Cookies header

/** The Web Storage API over a Map: what the SDK uses of window.localStorage. */
class MemoryStorage {
  #items = new Map();
  getItem(key) {
    return this.#items.has(key) ? this.#items.get(key) : null;
  }
  setItem(key, value) {
    this.#items.set(key, String(value));
  }
  removeItem(key) {
    this.#items.delete(key);
  }
  clear() {
    this.#items.clear();
  }
}

// The SDK reads the global `window` at request time: `window.localStorage` for the fallback credential and
// `window.console.warn` when it stores one. Each Browser runs its SDK calls in its own async context, so
// `window` shows that browser's storage even when calls of several browsers overlap.
const currentBrowser = new AsyncLocalStorage();
globalThis.window = {
  get localStorage() {
    return currentBrowser.getStore()?.localStorage;
  },
  console: {
    warn: (message) => currentBrowser.getStore()?.warnings.push(message),
  },
};

// What a browser's network panel shows: the last exchange of each browser (the SDK hides response headers).
const realFetch = globalThis.fetch;
globalThis.fetch = async (uri, options = {}) => {
  const response = await realFetch(uri, options);
  const browser = currentBrowser.getStore();
  if (browser) {
    browser.lastExchange = { method: options.method, uri, requestHeaders: options.headers ?? {}, response };
  }
  return response;
};

/** One browser profile on another site than the API: its own localStorage, no cookie jar (Node's fetch keeps
 * none), an SDK Client and the Account and Avatars services. */
export class Browser {
  constructor() {
    this.localStorage = new MemoryStorage();
    this.warnings = [];
    this.lastExchange = null;
    this.client = new Client().setEndpoint(ENDPOINT).setProject(PROJECT);
    const call = this.client.call.bind(this.client);
    this.client.call = (...args) => currentBrowser.run(this, () => call(...args));
    this.account = new Account(this.client);
    this.avatars = new Avatars(this.client);
  }

  /** The session credential the SDK keeps from X-Fallback-Cookies ('' when none). */
  get credential() {
    return JSON.parse(this.localStorage.getItem(FALLBACK_KEY) ?? '{}')[COOKIE] ?? '';
  }
}

/** A new browser signed in with a password; asserts the SDK took the fallback path for it. */
export async function signedIn(email, password = PASSWORD) {
  const browser = new Browser();
  const session = await browser.account.createEmailPasswordSession({ email, password });
  assert.ok(browser.credential, 'the SDK stored no X-Fallback-Cookies credential');
  assert.equal(decodeCredential(browser.credential).id, session.userId);
  return { browser, session };
}

/** A new account signed up through the SDK in a browser of its own (one of the 10 sign-ups per IP per hour). */
export async function signUp() {
  const email = uniqueEmail();
  const user = await new Browser().account.create({ userId: ID.unique(), email, password: PASSWORD });
  return { email, user };
}

export function uniqueEmail() {
  return `${randomUUID().replaceAll('-', '')}@example.com`;
}

/** A valid US number (the server checks numbering plans), random so reruns against one server do not collide. */
export function uniquePhone() {
  return `+1650253${String(randomInt(10000)).padStart(4, '0')}`;
}

export function decodeCredential(credential) {
  return JSON.parse(Buffer.from(credential, 'base64').toString('utf8'));
}

/** Assert that an SDK call fails with an AppwriteException of this status and type; returns it. */
export async function rejects(promise, code, type) {
  let caught;
  await assert.rejects(promise, (error) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof AppwriteException, `not an AppwriteException: ${caught}`);
  assert.deepEqual({ code: caught.code, type: caught.type }, { code, type }, caught.response);
  return caught;
}

// --- the dev outbox (local/outbox.py): {channel, to, subject, text, sentAt}, newest last -------------------------

export async function outbox() {
  const response = await realFetch(`${ORIGIN}/__dev/outbox`);
  assert.equal(response.status, 200);
  return response.json();
}

export async function lastMessage(to) {
  const messages = (await outbox()).filter((message) => message.to === to);
  assert.ok(messages.length, `nothing was sent to ${to}`);
  return messages.at(-1);
}

/** The six-digit code of the newest email or SMS to `to`. */
export async function lastCode(to) {
  const { text } = await lastMessage(to);
  const codes = new Set(text.match(/(?<!\d)\d{6}(?!\d)/g));
  assert.equal(codes.size, 1, `not exactly one code in ${JSON.stringify(text)}`);
  return [...codes][0];
}

/** The link of the newest email to `to`, parsed. */
export async function lastLink(to) {
  const { text } = await lastMessage(to);
  const links = new Set(text.match(/https?:\/\/[^\s<>"]+/g));
  assert.equal(links.size, 1, `not exactly one link in ${JSON.stringify(text)}`);
  return new URL([...links][0]);
}

/** Run an SDK call that sends an email or SMS. If the destination's one-per-minute cooldown refuses it (429),
 * wait until the X-RateLimit-Reset the answer carried, once, and call again. Returns [result, seconds waited]. */
export async function afterCooldown(browser, send) {
  try {
    return [await send(), 0];
  } catch (error) {
    if (!(error instanceof AppwriteException) || error.code !== 429) throw error;
    assert.equal(error.type, 'general_rate_limit_exceeded');
    const headers = browser.lastExchange.response.headers;
    assert.equal(headers.get('x-ratelimit-limit'), '1');
    assert.equal(headers.get('x-ratelimit-remaining'), '0');
    const pause = Number(headers.get('x-ratelimit-reset')) - Date.now() / 1000 + 0.2;
    assert.ok(pause > 0 && pause <= SEND_COOLDOWN_S + 1, `cooldown ends in ${pause.toFixed(1)} s`);
    await sleep(pause * 1000);
    return [await send(), pause];
  }
}

// --- images -------------------------------------------------------------------------------------------------------

const IMG_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'; // what a browser's <img> sends
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Load a URL like an <img> does (no session): the answer and the PNG's [width, height], from its IHDR chunk. */
export async function loadPng(url) {
  const response = await realFetch(url, { headers: { Accept: IMG_ACCEPT } });
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('content-type'), 'image/png');
  const bytes = new Uint8Array(await response.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 8)], PNG_SIGNATURE, 'not a PNG');
  const ihdr = new DataView(bytes.buffer, bytes.byteOffset + 16, 8);
  return { response, size: [ihdr.getUint32(0), ihdr.getUint32(4)] };
}

// --- TOTP (RFC 6238 through the otpauth package) ------------------------------------------------------------------

const PERIOD_MS = 30_000;

/** An authenticator app holding the secret of an otpauth:// URI. The server accepts a time step only once and
 * one step either side of now, so each code is from a step later than the last one used, waiting if needed. */
export class AuthenticatorApp {
  constructor(uri) {
    this.totp = OTPAuth.URI.parse(uri);
    assert.ok(this.totp instanceof OTPAuth.TOTP, uri);
    this.lastStep = -1;
  }

  async code() {
    const step = Math.max(Math.floor(Date.now() / PERIOD_MS), this.lastStep + 1);
    const wait = (step - 1) * PERIOD_MS - Date.now();
    if (wait > 0) await sleep(wait); // two steps ahead of now: wait until it is one step ahead
    this.lastStep = step;
    return this.totp.generate({ timestamp: step * PERIOD_MS });
  }
}
