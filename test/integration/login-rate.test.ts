/**
 * Caps on login starts against oidc-provider: beyond the per-IP or the global rate, `/login`
 * answers 429 `too_many_logins` with `Retry-After` before anything is pushed to the AS or stored,
 * and the app keeps serving everyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createApp } from '../../sample-app/app.js';
import type { ParLoginOptions } from '../../src/index.js';
import { startStack, type Stack } from '../helpers/stack.js';

/** The sample app behind a trusted loopback proxy, so that `X-Forwarded-For` names the client. */
function behindProxy(options: ParLoginOptions) {
  const app = createApp(options);
  app.set('trust proxy', 'loopback');
  return app;
}

describe('caps on login starts', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      buildApp: behindProxy as never,
      overrides: { maxLoginStartsPerIpPerMinute: 3, maxLoginStartsPerMinute: 5 },
    });
  });
  afterAll(() => stack.close());

  const pushes = () => stack.record.filter((r) => r.endpoint === 'par').length;
  const login = (ip: string) =>
    request(stack.appUrl).get('/login').set('X-Forwarded-For', ip).set('Accept', 'application/json');

  it('refuses the starts of one client beyond its cap, then every start beyond the global cap', async () => {
    const before = pushes();
    for (let i = 0; i < 3; i++) expect((await login('203.0.113.7')).status).toBe(303);
    const refused = await login('203.0.113.7');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'too_many_logins' });
    expect((refused.body as { error_description: string }).error_description).toContain(
      'maxLoginStartsPerIpPerMinute',
    );
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(pushes() - before).toBe(3);

    // Another client is not held back by the first one's cap, until the instance's own cap.
    for (let i = 0; i < 2; i++) expect((await login('198.51.100.20')).status).toBe(303);
    const shed = await login('192.0.2.33');
    expect(shed.status).toBe(429);
    expect((shed.body as { error_description: string }).error_description).toContain(
      'maxLoginStartsPerMinute',
    );
    expect(pushes() - before).toBe(5);

    const page = await stack
      .browser()
      .request(`${stack.appUrl}/login`, { headers: { 'x-forwarded-for': '192.0.2.34' } });
    expect(page.status).toBe(429);
    expect(page.body).toContain('<code>too_many_logins</code>');
    expect(stack.logs.at(-1)).toMatchObject({ level: 'warn', code: 'too_many_logins', status: 429 });
    expect((await request(stack.appUrl).get('/')).status).toBe(200);
  });
});

describe('the default caps', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('let one client start many logins a minute', async () => {
    for (let i = 0; i < 40; i++) expect((await request(stack.appUrl).get('/login')).status).toBe(303);
    expect(stack.middleware().config).toMatchObject({
      maxLoginStartsPerMinute: 12_000,
      maxLoginStartsPerIpPerMinute: 300,
    });
  });
});
