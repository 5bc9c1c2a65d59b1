/**
 * The demo's "what happened" panel, rendered in chromium: it shows what was pushed and what the
 * browser carried, and never a client credential, whatever the client authentication.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RecordedAsRequest } from '../../sample-app/demo-as.js';
import { parPanel } from '../../sample-app/pages.js';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
});

function par(body: RecordedAsRequest['body'], authorization?: string): RecordedAsRequest {
  return {
    endpoint: 'par',
    path: '/request',
    method: 'POST',
    authorization,
    contentType: 'application/x-www-form-urlencoded',
    body,
    status: 201,
    pushed: { request_uri: 'urn:ietf:params:oauth:request_uri:abc', expires_in: 60 },
  };
}
const front: RecordedAsRequest = {
  endpoint: 'authorization',
  path: '/auth',
  method: 'GET',
  authorization: undefined,
  contentType: undefined,
  body: {},
  status: 303,
  url: '/auth?client_id=app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc',
};

describe('the demo panel', () => {
  it('is empty before any push', () => {
    expect(parPanel([])).toBe('');
  });

  it('masks a private_key_jwt assertion and a client_secret_post secret, and shows the rest', async () => {
    const assertion = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJhcHAifQ.c2lnbmF0dXJl';
    await page.setContent(
      parPanel([
        par({
          client_id: 'app',
          state: 'the-state',
          code_challenge_method: 'S256',
          client_secret: 'post-secret-value',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
        front,
      ]),
    );
    const text = (await page.textContent('#par-panel'))!;
    expect(text).toContain('the-state');
    expect(text).toContain('urn:ietf:params:oauth:request_uri:abc');
    expect(text).toContain('expires_in = 60');
    expect(await page.textContent('#front-channel-url')).toBe(front.url);
    expect(text).not.toContain(assertion);
    expect(text).not.toContain('post-secret-value');
  });

  it('names the Basic scheme but never its credentials, and escapes what the AS recorded', async () => {
    await page.setContent(
      parPanel([
        par({ client_id: 'app', state: '<img src=x onerror="document.title=1">' }, 'Basic YXBwOnNlY3JldA=='),
      ]),
    );
    const text = (await page.textContent('#par-panel'))!;
    expect(text).toContain('Basic');
    expect(text).not.toContain('YXBwOnNlY3JldA==');
    expect(text).toContain('<img src=x');
    expect(await page.$('#par-panel img')).toBeNull();
  });

  it('shows the latest push of several', async () => {
    await page.setContent(parPanel([par({ state: 'old' }), front, par({ state: 'new' })]));
    const text = (await page.textContent('#par-panel'))!;
    expect(text).toContain('new');
    expect(text).not.toContain('old');
    expect(await page.$('#front-channel-url')).toBeNull();
  });
});
