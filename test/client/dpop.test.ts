/**
 * DPoP keys and proofs (RFC 9449 §4.2), with no AS: each proof is verified with jose against the
 * key (both the public key and the `jwk` its header carries, as an AS does), its protected header is
 * exactly `{"typ":"dpop+jwt","alg":"ES256","jwk":{…}}`, and its claims are exactly the ones asked
 * for, in a fixed order, with a fresh `jti` and the current `iat`.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { calculateJwkThumbprint, compactVerify, EmbeddedJWK, jwtVerify } from 'jose';
import {
  createDpopProof,
  DPOP_ALG,
  generateDpopKey,
  importDpopKey,
  newExportedDpopKey,
  type DpopKey,
} from '../../src/client/dpop.js';

const NOW_MS = 1_700_000_000_123;
const NOW = 1_700_000_000;

afterEach(() => {
  jest.restoreAllMocks();
});

/** The protected header's JSON text and the claims, after checking the signature with `publicKey`. */
async function verified(
  proof: string,
  publicKey: KeyObject,
): Promise<{ headerJson: string; claims: Record<string, unknown> }> {
  const { payload } = await jwtVerify(proof, publicKey, { algorithms: ['ES256'], typ: 'dpop+jwt' });
  await compactVerify(proof, publicKey, { algorithms: ['ES256'] });
  return { headerJson: Buffer.from(proof.split('.')[0]!, 'base64url').toString(), claims: payload };
}

describe('generateDpopKey', () => {
  it('makes a P-256 KeyObject with its public JWK only and the RFC 7638 thumbprint jose computes', async () => {
    const key = await generateDpopKey();
    expect(key.privateKey.type).toBe('private');
    expect(key.privateKey.asymmetricKeyType).toBe('ec');
    expect(key.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(Object.keys(key.publicJwk)).toEqual(['kty', 'crv', 'x', 'y']);
    expect(key.publicJwk).toEqual(createPublicKey(key.privateKey).export({ format: 'jwk' }));
    expect(key.jkt).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'));
    expect(Object.isFrozen(key)).toBe(true);
    expect((await generateDpopKey()).jkt).not.toBe(key.jkt);
  });
});

describe('newExportedDpopKey and importDpopKey', () => {
  it('give a private JWK whose key has the thumbprint pushed, and proofs that verify with its public key', async () => {
    const { jkt, exported } = newExportedDpopKey();
    const jwk = JSON.parse(exported) as Record<string, string>;
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    const imported = await importDpopKey(exported);
    expect(imported.publicJwk).toEqual(createPublicKey(imported.privateKey).export({ format: 'jwk' }));
    expect(imported.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
    expect(jkt).toBe(await calculateJwkThumbprint(imported.publicJwk, 'sha256'));
    expect(imported.jkt).toBe(jkt);
    const proof = await createDpopProof(imported, { htm: 'POST', htu: 'https://as.example/token' });
    const publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
      format: 'jwk',
    });
    await expect(verified(proof, publicKey)).resolves.toBeDefined();
    expect(newExportedDpopKey().jkt).not.toBe(jkt);
  });

  it('always give 32-octet coordinates and private scalars (RFC 7518 §6.2)', () => {
    // One scalar in 256 has a leading zero byte, so 3,000 keys miss the short case once in about 120,000 runs.
    const octets = (value: string | undefined): number => Buffer.from(value ?? '', 'base64url').length;
    const lengths = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      const jwk = JSON.parse(newExportedDpopKey().exported) as Record<string, string>;
      lengths.add(`${octets(jwk.x)}/${octets(jwk.y)}/${octets(jwk.d)}`);
    }
    expect([...lengths]).toEqual(['32/32/32']);
  });

  it('rejects (does not throw) what is not an exported key', async () => {
    let result: Promise<DpopKey> | undefined;
    expect(() => (result = importDpopKey('not json'))).not.toThrow();
    await expect(result).rejects.toThrow();
    await expect(importDpopKey('{"kty":"EC","crv":"P-256"}')).rejects.toThrow();
  });
});

describe('createDpopProof', () => {
  it('signs header typ dpop+jwt, alg ES256 and the public jwk, and claims htm, htu, ath, nonce, jti, iat', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    const key = await generateDpopKey();
    const proof = await createDpopProof(key, {
      htm: 'GET',
      htu: 'https://api.example/x/y?z=1#frag',
      accessToken: 'access-token-1',
      nonce: 'server-nonce',
    });
    const { headerJson, claims } = await verified(proof, createPublicKey(key.privateKey));
    expect(DPOP_ALG).toBe('ES256');
    expect(headerJson).toBe(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }));
    expect(Object.keys(claims)).toEqual(['htm', 'htu', 'ath', 'nonce', 'jti', 'iat']);
    expect(claims).toEqual({
      htm: 'GET',
      htu: 'https://api.example/x/y',
      ath: createHash('sha256').update('access-token-1').digest('base64url'),
      nonce: 'server-nonce',
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      iat: NOW,
    });
  });

  it('has only htm, htu, jti and iat without an access token or nonce', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    const key = await generateDpopKey();
    const proof = await createDpopProof(key, { htm: 'POST', htu: 'https://as.example/token' });
    const { claims } = await verified(proof, createPublicKey(key.privateKey));
    expect(claims).toEqual({
      htm: 'POST',
      htu: 'https://as.example/token',
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      iat: NOW,
    });
    expect(Object.keys(claims)).toEqual(['htm', 'htu', 'jti', 'iat']);
  });

  it('verifies with the jwk of its own header, as the AS checks it (RFC 9449 §4.3)', async () => {
    const key = await generateDpopKey();
    const proof = await createDpopProof(key, { htm: 'POST', htu: 'https://as.example/par' });
    const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(await calculateJwkThumbprint(protectedHeader.jwk!, 'sha256')).toBe(key.jkt);
    expect(protectedHeader.jwk).not.toHaveProperty('d');
  });

  it('uses a fresh jti and the current iat for each proof, with the same key', async () => {
    const key = await generateDpopKey();
    const now = jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    const first = await createDpopProof(key, { htm: 'POST', htu: 'https://as.example/token' });
    now.mockReturnValue(NOW_MS + 5_000);
    const second = await createDpopProof(key, { htm: 'POST', htu: 'https://as.example/token' });
    const publicKey = createPublicKey(key.privateKey);
    const a = (await verified(first, publicKey)).claims;
    const b = (await verified(second, publicKey)).claims;
    expect(a.jti).not.toBe(b.jti);
    expect([a.iat, b.iat]).toEqual([NOW, NOW + 5]);
  });

  it('signs with a DpopKey built by hand, and with each key its own jwk', async () => {
    const made = (): DpopKey => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }), jkt: 'x' };
    };
    const [one, two] = [made(), made()];
    for (const key of [one, two, one]) {
      const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://api.example/' });
      const { headerJson } = await verified(proof, createPublicKey(key.privateKey));
      expect(JSON.parse(headerJson)).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk });
    }
  });

  it('rejects (does not throw) for a key that is not P-256, and for an htu that is not a URL', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const p384: DpopKey = {
      privateKey,
      publicJwk: publicKey.export({ format: 'jwk' }),
      jkt: 'x',
    };
    let result: Promise<string> | undefined;
    expect(() => (result = createDpopProof(p384, { htm: 'GET', htu: 'https://api.example/' }))).not.toThrow();
    await expect(result).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    await expect(createDpopProof(await generateDpopKey(), { htm: 'GET', htu: 'not a url' })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_URL' }),
    );
  });
});
