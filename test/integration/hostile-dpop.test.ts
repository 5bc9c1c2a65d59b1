/**
 * DPoP misbehaviour a real AS will not produce: a nonce demanded again and again, a malformed
 * nonce, an unknown token type.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { expectCleanFailure, FETCH_HEADERS, useHostileStack } from '../helpers/hostile-stack.js';

const fixture = useHostileStack({ dpop: 'session' });

const nonceDemand = (nonce: string) => ({
  status: 400,
  headers: { 'dpop-nonce': nonce },
  body: { error: 'use_dpop_nonce' },
});

describe('DPoP against a scripted AS', () => {
  it('retries the token request once with the nonce, then logs in', async () => {
    let demanded = 0;
    // The scripted AS spends the code on the first request whatever it answers: the retry gets the tokens it minted then.
    fixture.as.script.token = () => {
      if (demanded++ === 0) return nonceDemand('n-1');
      const issued = fixture.as.issued.at(-1)!;
      return {
        status: 200,
        body: {
          access_token: issued.accessToken,
          token_type: 'DPoP',
          id_token: issued.idToken,
          expires_in: 600,
        },
      };
    };
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login`);
    expect(hops.at(-1)!.url).toBe(`${fixture.app.url}/`);
    const proofs = fixture.as.requests
      .filter((r) => r.endpoint === 'token')
      .map((r) => decodeJwt(String(r.headers.dpop)));
    expect(proofs.map((p) => p.nonce)).toEqual([undefined, 'n-1']);
    expect((await browser.request(`${fixture.app.url}/me`, { headers: FETCH_HEADERS })).status).toBe(200);
  });

  it('gives up after one retry when the AS keeps demanding a nonce (token_error, 502)', async () => {
    fixture.as.script.token = nonceDemand('n-again');
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login`);
    expect(fixture.as.count('token')).toBe(2);
    await expectCleanFailure(fixture.app, browser, hops.at(-1)!, 'token_error', 502);
  });

  it('does not retry with a malformed nonce', async () => {
    fixture.as.script.token = nonceDemand('bad nonce with spaces');
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login`);
    expect(fixture.as.count('token')).toBe(1);
    await expectCleanFailure(fixture.app, browser, hops.at(-1)!, 'token_error', 502);
  });

  it('refuses a token type that is neither DPoP nor Bearer (token_error, 502)', async () => {
    fixture.as.script.token = { body: (normal: unknown) => ({ ...(normal as object), token_type: 'MAC' }) };
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login`);
    await expectCleanFailure(fixture.app, browser, hops.at(-1)!, 'token_error', 502);
  });
});
