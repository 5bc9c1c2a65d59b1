/**
 * A session's ID token is kept without the payload its claims repeat, and given back byte for byte
 * (state/kept-id-token.ts); anything that would not come back exactly is kept whole, and a kept
 * token whose claims changed gives no hint rather than a wrong one.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import type { IdTokenClaims } from '../../src/client/id-token.js';
import { keptIdToken, restoredIdToken } from '../../src/state/kept-id-token.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const CLAIMS = {
  iss: 'https://as.example',
  sub: 'alice',
  aud: 'client',
  exp: 1_700_000_600,
  iat: 1_700_000_000,
  nonce: 'n-0S6_WzA2Mj',
  sid: 'a1b2',
  name: 'Alice Ünïcode <a&b>',
  email_verified: true,
} as IdTokenClaims;

const signed = (claims: object): Promise<string> =>
  new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);

/** A token whose payload segment is `payloadJson` as written, signed like an AS would. */
function withPayload(token: string, payloadJson: string): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(payloadJson).toString('base64url')}.${signature}`;
}

/** The claims as a session store gives them back: through JSON. */
const stored = (claims: object): IdTokenClaims => JSON.parse(JSON.stringify(claims)) as IdTokenClaims;

describe('keptIdToken and restoredIdToken', () => {
  it('keep a token whose payload is the claims as header, digest and signature, and give it back whole', async () => {
    const token = await signed(CLAIMS);
    const kept = keptIdToken(token, CLAIMS);
    const [header, payload, signature] = token.split('.');
    expect(kept).toMatch(/^[\w-]+\.~[\w-]{11}\.[\w-]+$/);
    expect(kept.startsWith(`${header}.~`)).toBe(true);
    expect(kept.endsWith(`.${signature}`)).toBe(true);
    expect(kept.length).toBeLessThan(token.length - payload!.length + 20);
    expect(restoredIdToken(kept, stored(CLAIMS))).toBe(token);
  });

  it('keep whole a token whose payload is not the claims exactly', async () => {
    const token = await signed(CLAIMS);
    const spaced = withPayload(token, JSON.stringify(CLAIMS, null, 1));
    const escaped = withPayload(token, JSON.stringify(CLAIMS).replace('https://', 'https:\\/\\/'));
    const changedByApp = { ...CLAIMS, role: 'admin' } as IdTokenClaims; // afterCallback, userinfo
    const { sub, ...rest } = CLAIMS;
    const reordered = { ...rest, sub } as IdTokenClaims;
    for (const [kept, claims] of [
      [spaced, CLAIMS],
      [escaped, CLAIMS],
      [token, changedByApp],
    ] as const) {
      expect(keptIdToken(kept, claims)).toBe(kept);
      expect(restoredIdToken(kept, claims)).toBe(kept);
    }
    expect(keptIdToken(token, stored(reordered))).toBe(token); // the same claims in another order
    expect(keptIdToken(token, { ...CLAIMS, sub: 'bob' })).toBe(token);
  });

  it('give no token when the claims changed since the token was kept', async () => {
    const kept = keptIdToken(await signed(CLAIMS), CLAIMS);
    expect(restoredIdToken(kept, { ...CLAIMS, name: 'Mallory' })).toBeUndefined();
    const { sid, ...withoutSid } = CLAIMS as IdTokenClaims & { sid: string };
    expect(sid).toBe('a1b2');
    expect(restoredIdToken(kept, withoutSid as IdTokenClaims)).toBeUndefined();
  });

  it('leave what is not a compact JWS as it is', () => {
    for (const value of ['', 'opaque', 'a.b', 'a.b.c.d', 'a..c']) {
      expect(keptIdToken(value, CLAIMS)).toBe(value);
      expect(restoredIdToken(value, CLAIMS)).toBe(value);
    }
  });
});
