import { afterAll, describe, expect, test } from '@jest/globals';
import { startStack, type Stack } from './helpers/stack.js';

describe.each(['client_secret_basic', 'private_key_jwt'] as const)('tmp stack %s', (authMethod) => {
  let stack: Stack;
  afterAll(async () => stack?.close());
  test('structuredClone is realm-local', () => {
    expect(structuredClone({ a: [1] }).constructor).toBe(Object);
    expect(structuredClone({ a: [1] }).a.constructor).toBe(Array);
    expect(structuredClone(new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 2]));
    const d = new Date(5); expect(structuredClone(d).getTime()).toBe(5);
    const m = new Map([[1, 2]]); expect(structuredClone(m).get(1)).toBe(2);
    const cyc: Record<string, unknown> = {}; cyc.self = cyc; const c = structuredClone(cyc); expect(c.self).toBe(c);
    expect(() => structuredClone(() => 1)).toThrow();
  });
  test('login walks', async () => {
    stack = await startStack({ authMethod });
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile' });
    const last = hops.at(-1)!;
    expect(last.url).toBe(`${stack.appUrl}/profile`);
    expect(last.status).toBe(200);
    expect(last.body).toContain('Alice Example');
    expect(stack.record.map((r) => `${r.endpoint} ${r.status}`)).toEqual(['par 201', 'token 200']);
    if (authMethod === 'private_key_jwt') expect(stack.record[0]!.body.client_assertion).toBeDefined();
    else expect(stack.record[0]!.authorization).toMatch(/^Basic /);
    expect(stack.logs).toEqual([]);
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl, { returnTo: '/' });
    expect(new URL(callbackUrl).searchParams.get('code')).toBeTruthy();
  });
});

test('logout and no tokens seen', async () => {
  const stack = await startStack({ authMethod: 'private_key_jwt' });
  try {
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile', user: 'carol' });
    const profile = hops.at(-1)!;
    const out = await browser.submitForm(profile.body, profile.url);
    expect(out.status).toBe(303);
    const end = new URL(out.location!);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.appUrl}/`);
    const rest = await browser.follow(out);
    const confirm = rest.at(-1)!;
    const done = await browser.follow(await browser.submitForm(confirm.body, confirm.url, { logout: 'yes' }));
    expect(done.at(-1)!.url).toBe(`${stack.appUrl}/`);
    expect(done.at(-1)!.body).toContain('Log in');
    const tokenResponse = stack.record.find((r) => r.endpoint === 'token')!;
    expect(tokenResponse.body.code).toBeDefined();
    const seenText = JSON.stringify(browser.seen.filter((h) => !h.url.includes('/session/end') && !h.location?.includes('/session/end')));
    expect(seenText).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT outside the logout hint
    expect(browser.asUrls[0]).toMatch(/\/auth\?client_id=jwt-client&request_uri=/);
    // CSRF: POST /logout without same-origin markers
    const csrf = await browser.request(`${stack.appUrl}/logout`, { method: 'POST', body: '', initiator: 'http://evil.example' });
    expect(csrf.status).toBe(403);
  } finally {
    await stack.close();
  }
});
