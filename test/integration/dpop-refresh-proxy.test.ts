/**
 * DPoP (RFC 9449) beyond the login, against oidc-provider with DPoP nonces required: the userinfo
 * call at login (§7.1 with the §9 nonce retry), the refresh of a DPoP-bound token through
 * accessToken()'s single-flight refresh (§5: a proof with the same key, the §8 nonce retry, a
 * DPoP-bound answer) and the API proxy's calls (§7.1: `Authorization: DPoP`, a proof per call with
 * `ath`, the resource server's nonce retried and remembered).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  EmbeddedJWK,
  jwtVerify,
  type JWK,
} from 'jose';
import type { Configuration } from 'oidc-provider';
import type { DpopMode } from '../../src/index.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';
import type { Browser } from '../helpers/browser.js';
import { sha, tokenApp } from '../helpers/token-app.js';
import { contextOf } from '../helpers/tokens.js';

const TTL = 10;
const SKEW = 7;
const untilRefreshDue = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, (TTL - SKEW) * 1000 + 200));

function requireDpopNonces(config: Configuration): void {
  config.features!.dPoP = { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true };
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** An API that demands a DPoP nonce (RFC 9449 §9) once, then accepts every call; it records what reached it. */
async function startNonceApi(): Promise<{ url: string; seen: Seen[]; server: Server; nonce: string }> {
  const seen: Seen[] = [];
  const nonce = randomBytes(16).toString('base64url');
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const proof = typeof req.headers.dpop === 'string' ? decodeJwt(req.headers.dpop) : undefined;
    if (proof?.nonce !== nonce) {
      res.writeHead(401, {
        'www-authenticate':
          'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
        'dpop-nonce': nonce,
      });
      return void res.end();
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server, nonce };
}

/** The app under test, its API proxies pointed at the test API. */
function buildApp(apiUrl: string) {
  return tokenApp({ '/api': { target: `${apiUrl}/v1` } });
}

/** The vault's tokens of the browser's session, found through the back-channel logout index by the user's sid. */
async function vaultTokens(stack: Stack, browser: Browser) {
  const sid = (JSON.parse((await browser.navigate(`${stack.appUrl}/me`)).body) as { claims: { sid: string } })
    .claims.sid;
  const ctx = contextOf(stack.middleware());
  const members = await ctx.shared.takeSet(`bcl:sid:${sid}`);
  expect(members).toHaveLength(1);
  await ctx.shared.addToSets([`bcl:sid:${sid}`], members[0]!, 3600);
  return (await ctx.vault.read(members[0]!.split(' ')[1]!))!;
}

/** Verify a DPoP proof's signature with its embedded key and return its claims and key thumbprint. */
async function openProof(proof: string): Promise<{ claims: Record<string, unknown>; jkt: string }> {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256'],
  });
  return { claims: payload, jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK) };
}

let api: Awaited<ReturnType<typeof startNonceApi>>;
beforeAll(async () => {
  api = await startNonceApi();
});
afterAll(async () => {
  await new Promise((resolve) => api.server.close(resolve));
});

describe.each<DpopMode>(['session', 'instance'])('DPoP-bound tokens after login, key per %s', (mode) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      authMethod: 'private_key_jwt',
      configureAs: requireDpopNonces,
      buildApp: buildApp(api.url) as never,
      overrides: { dpop: mode, refreshSkewSeconds: SKEW, fetchUserinfo: true },
      as: { accessTokenTtl: TTL },
    });
  });
  afterAll(() => stack.close());

  it('fetches userinfo with a DPoP proof after the nonce retry, refreshes with a proof of the same key, and proxies with DPoP proofs', async () => {
    const before = stack.record.length;
    const browser = stack.browser();
    await browser.login(stack.appUrl, { user: 'frank' });
    const login = backChannel(stack.record.slice(before));
    const jkt = String(login.find((r) => r.endpoint === 'par')!.body.dpop_jkt);

    // Userinfo at login: DPoP scheme, a proof bound to the token, the nonce asked for and then sent.
    const userinfo = login.filter((r) => r.endpoint === 'userinfo');
    expect(userinfo.map((r) => r.status)).toEqual([401, 200]);
    const [firstInfo, secondInfo] = await Promise.all(userinfo.map((r) => openProof(r.dpop!)));
    expect(userinfo[1]!.authorization).toMatch(/^DPoP /);
    expect(secondInfo!.jkt).toBe(jkt);
    expect(secondInfo!.claims).toMatchObject({
      htm: 'GET',
      htu: `${stack.issuer}/me`,
      ath: sha(userinfo[1]!.authorization!.slice(5)),
    });
    expect(firstInfo!.claims.nonce).toBeUndefined();
    expect(typeof secondInfo!.claims.nonce).toBe('string');
    const me = JSON.parse((await browser.navigate(`${stack.appUrl}/me`)).body) as {
      claims: { email: string };
    };
    expect(me.claims.email).toBe('frank@example.test');

    // Refresh: the same key proves possession, the nonce retry happens, the new token is DPoP-bound to it.
    const loginTokens = await vaultTokens(stack, browser);
    expect(loginTokens.tokenType).toBe('DPoP');
    await untilRefreshDue();
    const beforeRefresh = stack.record.length;
    const call = await browser.navigate(`${stack.appUrl}/call`);
    expect(call.status).toBe(200);
    const refresh = backChannel(stack.record.slice(beforeRefresh)).filter((r) => r.endpoint === 'token');
    expect(refresh.map((r) => [r.body.grant_type, r.status])).toEqual([
      ['refresh_token', 400],
      ['refresh_token', 200],
    ]);
    const refreshProof = await openProof(refresh[1]!.dpop!);
    expect(refreshProof.jkt).toBe(jkt);
    expect(refreshProof.claims).toMatchObject({ htm: 'POST', htu: `${stack.issuer}/token` });
    expect(typeof refreshProof.claims.nonce).toBe('string');
    const refreshed = await vaultTokens(stack, browser);
    expect(refreshed.accessToken).not.toBe(loginTokens.accessToken);
    expect(refreshed.tokenType).toBe('DPoP');
    expect((JSON.parse(call.body) as { token: string }).token).toBe(sha(refreshed.accessToken));
    const saved = await stack.provider.AccessToken.find(refreshed.accessToken);
    expect(saved?.jkt).toBe(jkt);

    // The proxy: DPoP scheme, a fresh proof per call with ath and the API's nonce (asked once, then remembered).
    const seenBefore = api.seen.length;
    const first = await browser.request(`${stack.appUrl}/api/items?x=1`, {
      headers: { 'x-csrf': '1', accept: 'application/json' },
    });
    expect(first.status).toBe(200);
    const second = await browser.request(`${stack.appUrl}/api/items`, {
      method: 'POST',
      headers: { 'x-csrf': '1', accept: 'application/json', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(second.status).toBe(200);
    const calls = api.seen.slice(seenBefore);
    expect(calls.map((c) => c.method)).toEqual(['GET', 'GET', 'POST']); // the first without a nonce, answered 401 use_dpop_nonce
    const proofs = await Promise.all(calls.map((c) => openProof(String(c.headers.dpop))));
    for (const [index, c] of calls.entries()) {
      expect(c.headers.authorization).toBe(`DPoP ${refreshed.accessToken}`);
      expect(proofs[index]!.jkt).toBe(jkt);
      expect(proofs[index]!.claims).toMatchObject({
        htm: c.method,
        htu: `${api.url}/v1/items`,
        ath: sha(refreshed.accessToken),
      });
    }
    expect(proofs.map((p) => p.claims.nonce)).toEqual([undefined, api.nonce, api.nonce]);
    expect(new Set(proofs.map((p) => p.claims.jti)).size).toBe(proofs.length);
    expect(decodeProtectedHeader(String(calls[0]!.headers.dpop)).typ).toBe('dpop+jwt');
  });
});
