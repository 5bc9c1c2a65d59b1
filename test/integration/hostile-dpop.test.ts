/**
 * DPoP misbehaviour a real AS will not produce: a nonce demanded again and again, a malformed
 * nonce, an unknown token type.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { startHostileAs, type HostileAs } from '../helpers/hostile-as.js';
import { expectCleanFailure, FETCH_HEADERS, startHostileApp, trackUnhandledRejections, type HostileApp } from '../helpers/hostile-stack.js';

let as: HostileAs;
let app: HostileApp;
let rejections: ReturnType<typeof trackUnhandledRejections>;
beforeAll(async () => {
  as = await startHostileAs();
  app = await startHostileApp(as, { dpop: 'session' });
  rejections = trackUnhandledRejections();
});
afterEach(() => as.reset());
afterAll(async () => {
  rejections.stop();
  expect(rejections.reasons).toEqual([]);
  await app.close();
  await as.close();
});

const nonceDemand = (nonce: string) => ({ status: 400, headers: { 'dpop-nonce': nonce }, body: { error: 'use_dpop_nonce' } });

describe('DPoP against a scripted AS', () => {
  it('retries the token request once with the nonce, then logs in', async () => {
    let demanded = 0;
    // The scripted AS spends the code on the first request whatever it answers: the retry gets the tokens it minted then.
    as.script.token = () => {
      if (demanded++ === 0) return nonceDemand('n-1');
      const issued = as.issued.at(-1)!;
      return { status: 200, body: { access_token: issued.accessToken, token_type: 'DPoP', id_token: issued.idToken, expires_in: 600 } };
    };
    const browser = app.browser();
    const hops = await browser.follow(`${app.url}/login`);
    expect(hops.at(-1)!.url).toBe(`${app.url}/`);
    const proofs = as.requests.filter((r) => r.endpoint === 'token').map((r) => decodeJwt(String(r.headers.dpop)));
    expect(proofs.map((p) => p.nonce)).toEqual([undefined, 'n-1']);
    expect((await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS })).status).toBe(200);
  });

  it('gives up after one retry when the AS keeps demanding a nonce (token_error, 502)', async () => {
    as.script.token = nonceDemand('n-again');
    const browser = app.browser();
    const hops = await browser.follow(`${app.url}/login`);
    expect(as.count('token')).toBe(2);
    await expectCleanFailure(app, browser, hops.at(-1)!, 'token_error', 502);
  });

  it('does not retry with a malformed nonce', async () => {
    as.script.token = nonceDemand('bad nonce with spaces');
    const browser = app.browser();
    const hops = await browser.follow(`${app.url}/login`);
    expect(as.count('token')).toBe(1);
    await expectCleanFailure(app, browser, hops.at(-1)!, 'token_error', 502);
  });

  it('refuses a token type that is neither DPoP nor Bearer (token_error, 502)', async () => {
    as.script.token = { body: (normal: unknown) => ({ ...(normal as object), token_type: 'MAC' }) };
    const browser = app.browser();
    const hops = await browser.follow(`${app.url}/login`);
    await expectCleanFailure(app, browser, hops.at(-1)!, 'token_error', 502);
  });
});
