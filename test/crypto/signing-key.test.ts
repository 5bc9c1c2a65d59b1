/**
 * The client's own key (security review findings 7 and 10): PEM text is read from its first BEGIN
 * line wherever it starts, RSA keys (RSA-PSS included) under 2048 bits are refused naming the size
 * (RFC 7518 §3.3), and no problem sentence ever holds the key's material.
 */
import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { importSigningKey } from '../../src/crypto/signing-key.js';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']): string =>
  key.export({ type: 'pkcs8', format: 'pem' }) as string;

/**
 * The same RSA key as an RSA-PSS one: its PKCS#8 (2048 bits, two-byte lengths) with the
 * rsaEncryption AlgorithmIdentifier replaced by id-RSASSA-PSS without parameters (RFC 8017 §A.2.3).
 */
function asRsaPss(pkcs8: Buffer): KeyObject {
  const rsaEncryption = Buffer.from('300d06092a864886f70d0101010500', 'hex');
  const rsassaPss = Buffer.from('300b06092a864886f70d01010a', 'hex');
  expect(pkcs8.subarray(7, 22).equals(rsaEncryption)).toBe(true);
  const rest = pkcs8.subarray(22);
  const content = Buffer.concat([pkcs8.subarray(4, 7), rsassaPss, rest]);
  const header = Buffer.from([0x30, 0x82, content.length >> 8, content.length & 0xff]);
  return createPrivateKey({ key: Buffer.concat([header, content]), format: 'der', type: 'pkcs8' });
}

describe('importSigningKey', () => {
  it('reads a PKCS#8 PEM with Bag Attributes lines before it', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const text = `Bag Attributes\n    friendlyName: app\nKey Attributes: <No Attributes>\n${pem(privateKey)}`;
    expect(importSigningKey(text, undefined, 'k1')).toMatchObject({ alg: 'ES384', kid: 'k1' });
  });

  it.each([
    ['rsa', 1024],
    ['rsa-pss', 1536],
  ] as const)('refuses an %s key of %i bits, naming the size', (type, bits) => {
    const { privateKey } = generateKeyPairSync(type as 'rsa', { modulusLength: bits });
    const result = importSigningKey(pem(privateKey), undefined, undefined);
    expect(result).toEqual({
      problem: `is an RSA key of ${bits} bits: at least 2048 are required (RFC 7518 §3.3)`,
    });
  });

  it('accepts an RSA-PSS key of 2048 bits, its kid the RFC 7638 thumbprint of its RSA JWK', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pss = asRsaPss(rsa.privateKey.export({ type: 'pkcs8', format: 'der' }));
    expect(pss.asymmetricKeyType).toBe('rsa-pss');
    const expected = await calculateJwkThumbprint(rsa.publicKey.export({ format: 'jwk' }));
    expect(importSigningKey(pss, undefined, undefined)).toMatchObject({ alg: 'PS256', kid: expected });
  });

  it('never quotes the key in a problem, whatever the text around it', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const body = pem(privateKey);
    const jwkWithTypo = JSON.stringify(privateKey.export({ format: 'jwk' })).replace('{', '{,');
    for (const text of [body.replace('-----BEGIN', '----BEGIN'), `x${body.slice(28)}`, jwkWithTypo]) {
      expect(importSigningKey(text, undefined, undefined)).toEqual({
        problem: 'is not a private key: expected a private JWK as JSON or a PKCS#8 PEM',
      });
    }
  });
});
