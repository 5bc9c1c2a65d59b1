/**
 * `req.auth.userinfo()` against oidc-provider: the userinfo endpoint's claims for the session's
 * user, fetched on demand with the session's access token (OIDC Core §5.3).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';
import { createApp } from '../../sample-app/app.js';
import type { ParLoginError, ParLoginOptions } from '../../src/index.js';
import { startStack, type Stack } from '../helpers/stack.js';

/** The sample app plus `/userinfo-now`, which answers what `req.auth.userinfo()` returns. */
function appWithUserinfoRoute(options: ParLoginOptions) {
  const app = createApp(options);
  app.get('/userinfo-now', (req: Request, res: Response) => {
    req.auth.userinfo().then(
      (claims) => res.json(claims),
      (err: ParLoginError) => res.status(err.status).json({ error: err.code }),
    );
  });
  return app;
}

describe('req.auth.userinfo()', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ buildApp: appWithUserinfoRoute as never });
  });
  afterAll(() => stack.close());

  it("fetches the logged-in user's claims from the userinfo endpoint", async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl, { user: 'carol' });
    const answer = await browser.request(`${stack.appUrl}/userinfo-now`, {
      headers: { accept: 'application/json' },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({
      sub: 'carol',
      email: 'carol@example.test',
      name: 'Carol Example',
    });
  });

  it('fails with unauthenticated for an anonymous request', async () => {
    const answer = await stack.browser().request(`${stack.appUrl}/userinfo-now`, {
      headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
    });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'unauthenticated' });
  });
});
