/**
 * The node:crypto JWS: every algorithm round-trips, and agrees with jose both ways (tokens we sign
 * verify with jose, tokens jose signs verify here), so the encoding (R || S for ECDSA, PSS salt
 * length) is the one RFC 7518 specifies, not only self-consistent.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { CompactSign, compactVerify } from 'jose';
import {
  compactSigner,
  decodeCompact,
  JWS_ALGORITHMS,
  keyFitsAlgorithm,
  verifySignature,
} from '../../src/crypto/jws.js';

function keyPairFor(alg: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('RS') || alg.startsWith('PS'))
    return generateKeyPairSync('rsa', { modulusLength: 2048 });
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'ES384') return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  if (alg === 'ES512') return generateKeyPairSync('ec', { namedCurve: 'P-521' });
  return generateKeyPairSync('ed25519');
}

function verifyHere(token: string, key: KeyObject): boolean {
  const decoded = decodeCompact(token);
  if ('problem' in decoded) throw new Error(decoded.problem);
  return verifySignature(decoded.header.alg, decoded.signingInput, decoded.signature, key);
}

describe('compactSigner and verifySignature', () => {
  it.each(JWS_ALGORITHMS)('%s: signs what jose verifies, and verifies what jose signs', async (alg) => {
    const { privateKey, publicKey } = keyPairFor(alg);
    const ours = compactSigner({ alg, typ: 'JWT' }, privateKey)({ iss: 'client', n: 1 });
    const { payload } = await compactVerify(ours, publicKey, { algorithms: [alg] });
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual({ iss: 'client', n: 1 });
    expect(verifyHere(ours, publicKey)).toBe(true);

    const theirs = await new CompactSign(Buffer.from('{"sub":"x"}'))
      .setProtectedHeader({ alg })
      .sign(privateKey);
    expect(verifyHere(theirs, publicKey)).toBe(true);
    const other = keyPairFor(alg).publicKey;
    expect(verifyHere(theirs, other)).toBe(false);
  });

  it('refuses a changed payload and a truncated signature', () => {
    const { privateKey, publicKey } = keyPairFor('ES256');
    const [header, , signature] = compactSigner({ alg: 'ES256' }, privateKey)({ sub: 'alice' }).split('.');
    const forged = `${header}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.${signature}`;
    expect(verifyHere(forged, publicKey)).toBe(false);
    expect(
      verifyHere(
        `${header}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.${signature!.slice(0, 20)}`,
        publicKey,
      ),
    ).toBe(false);
  });

  it('never verifies with a key of another type or curve than the alg needs', () => {
    const ec = keyPairFor('ES256');
    const rsa = keyPairFor('RS256');
    const token = compactSigner({ alg: 'ES256' }, ec.privateKey)({});
    const decoded = decodeCompact(token);
    if ('problem' in decoded) throw new Error(decoded.problem);
    expect(verifySignature('ES384', decoded.signingInput, decoded.signature, ec.publicKey)).toBe(false);
    expect(verifySignature('RS256', decoded.signingInput, decoded.signature, ec.publicKey)).toBe(false);
    expect(keyFitsAlgorithm(rsa.publicKey, 'PS256')).toBe(true);
    expect(keyFitsAlgorithm(rsa.publicKey, 'ES256')).toBe(false);
    expect(keyFitsAlgorithm(rsa.publicKey, 'HS256')).toBe(false);
    expect(keyFitsAlgorithm(rsa.publicKey, 'none')).toBe(false);
  });

  it('refuses to sign with a key that does not fit the alg, with a coded TypeError', () => {
    expect(() => compactSigner({ alg: 'ES256' }, keyPairFor('RS256').privateKey)({})).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => compactSigner({ alg: 'HS256' }, keyPairFor('ES256').privateKey)({})).toThrow(TypeError);
  });
});

describe('compactSigner', () => {
  it('signs each payload under the header as it was when prepared, encoded once (RFC 7515 §7.1)', async () => {
    const { privateKey, publicKey } = keyPairFor('ES256');
    const header: { alg: string; typ: string; kid?: string } = { alg: 'ES256', typ: 'JWT' };
    const sign = compactSigner(header, privateKey);
    header.kid = 'added later';
    const first = sign({ n: 1 });
    const second = sign({ n: 2, s: 'two' });
    expect(first.split('.')[0]).toBe(Buffer.from('{"alg":"ES256","typ":"JWT"}').toString('base64url'));
    expect(second.split('.')[0]).toBe(first.split('.')[0]);
    const verified = await compactVerify(second, publicKey, { algorithms: ['ES256'] });
    expect(Buffer.from(verified.payload).toString()).toBe('{"n":2,"s":"two"}');
    expect(verified.protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT' });
    expect(verifyHere(first, publicKey)).toBe(true);
  });

  it('signs with a reused signer exactly what a fresh signer signs for the same header, payload and key', () => {
    const { privateKey, publicKey } = keyPairFor('Ed25519');
    const header = { alg: 'Ed25519', kid: 'k' };
    const signer = compactSigner(header, privateKey);
    signer({ other: true });
    const ours = signer({ a: [1, 'b'] });
    expect(ours).toBe(compactSigner(header, privateKey)({ a: [1, 'b'] })); // Ed25519 is deterministic
    expect(verifyHere(ours, publicKey)).toBe(true);
  });

  it('refuses a key that does not fit the alg when prepared, not when signing', () => {
    expect(() => compactSigner({ alg: 'PS256' }, keyPairFor('ES256').privateKey)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => compactSigner({ alg: 'none' }, keyPairFor('ES256').privateKey)).toThrow(TypeError);
  });
});

describe('decodeCompact', () => {
  const b64 = (value: unknown): string =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  it.each<[string, string, RegExp]>([
    ['two parts', 'a.b', /three/],
    ['five parts (a JWE)', 'a.b.c.d.e', /three/],
    ['a header that is not JSON', `${b64('nope')}.${b64({})}.`, /header/],
    ['a header without alg', `${b64({ typ: 'JWT' })}.${b64({})}.`, /header/],
    ['a header with crit', `${b64({ alg: 'ES256', crit: ['exp'], exp: 1 })}.${b64({})}.`, /critical/],
    ['a payload that is an array', `${b64({ alg: 'ES256' })}.${b64([1])}.`, /payload/],
    ['a payload that is not base64url', `${b64({ alg: 'ES256' })}.a+b.`, /payload/],
    ['a signature that is not base64url', `${b64({ alg: 'ES256' })}.${b64({})}.a/b`, /signature/],
  ])('refuses %s', (_name, token, problem) => {
    expect(decodeCompact(token)).toEqual({ problem: expect.stringMatching(problem) });
  });
});
