/**
 * Importing the client's private key for `private_key_jwt` (OIDC Core §9, RFC 7523 §2.2): once, at
 * start-up, synchronously, with the algorithm and `kid` settled before the first request.
 *
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { JWS_ALGORITHMS, keyFitsAlgorithm, MIN_RSA_BITS, rsaBits } from './jws.js';

/** A private key ready to sign client assertions. */
export interface SigningKey {
  /** The private key. */
  readonly key: KeyObject;
  /** The JWS `alg` of assertions signed with it. */
  readonly alg: string;
  /** The JWS `kid` header. */
  readonly kid: string;
}

/**
 * Import a private key given as a JWK (object or JSON text), a PKCS#8 PEM, or a `KeyObject`.
 * Returns a problem sentence instead of throwing, so configuration checks can list them all.
 * The key's material never appears in a problem sentence.
 *
 * @param input The key.
 * @param alg The wanted JWS algorithm; derived from the key when absent.
 * @param kid The wanted `kid`; defaults to the JWK's `kid`, else its RFC 7638 thumbprint.
 */
export function importSigningKey(
  input: string | JWK | KeyObject,
  alg: string | undefined,
  kid: string | undefined,
): SigningKey | { problem: string } {
  let key: KeyObject;
  let jwkAlg: string | undefined;
  let jwkKid: string | undefined;
  try {
    if (typeof input === 'string' && input.includes('-----BEGIN ')) {
      // From the first BEGIN line: tools such as `openssl pkcs12 -nodes` write text before it.
      key = createPrivateKey({ key: input.slice(input.indexOf('-----BEGIN ')), format: 'pem' });
    } else if (typeof input === 'string' || isPlainJwk(input)) {
      const jwk = (typeof input === 'string' ? JSON.parse(input) : input) as JWK;
      jwkAlg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
      jwkKid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
      key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } else {
      key = input;
    }
  } catch {
    return { problem: 'is not a private key: expected a private JWK as JSON or a PKCS#8 PEM' };
  }
  if (key.type !== 'private') return { problem: 'is not a private key (a public or secret key was given)' };
  const bits = rsaBits(key);
  if (bits !== undefined && bits < MIN_RSA_BITS)
    return {
      problem: `is an RSA key of ${bits} bits: at least ${MIN_RSA_BITS} are required (RFC 7518 §3.3)`,
    };
  const wanted = alg ?? jwkAlg ?? defaultAlg(key);
  if (wanted === undefined || !keyFitsAlgorithm(key, wanted)) {
    return {
      problem: `has a key type (${describeKey(key)}) that cannot sign with ${wanted ?? 'any supported algorithm'}`,
    };
  }
  return Object.freeze({ key, alg: wanted, kid: kid ?? jwkKid ?? thumbprint(key) });
}

function isPlainJwk(value: unknown): value is JWK {
  return typeof value === 'object' && value !== null && 'kty' in value;
}

/** The first algorithm of jws.ts's table the key fits: RS256, PS256 (RSA-PSS keys), ESxxx by curve, EdDSA. */
function defaultAlg(key: KeyObject): string | undefined {
  return JWS_ALGORITHMS.find((alg) => keyFitsAlgorithm(key, alg));
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve}` : String(key.asymmetricKeyType);
}

/** The members of the RFC 7638 §3.2 thumbprint input, in lexicographic order, by `kty` (RFC 8037 §2 for OKP). */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
});

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of a public JWK, or of a private one (only the
 * required public members count, §3.2): the `kid` default here, the DPoP `jkt` (RFC 9449 §6.1).
 * Synchronous, unlike jose's `calculateJwkThumbprint` (a WebCrypto digest job).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const required = THUMBPRINT_MEMBERS[typeof jwk.kty === 'string' ? jwk.kty : ''] ?? [];
  // JSON.stringify writes the members in this order with no whitespace: the §3.3 canonical form.
  const canonical = JSON.stringify(Object.fromEntries(required.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the key's public part. */
function thumbprint(key: KeyObject): string {
  return jwkThumbprint(publicJwk(key));
}

/**
 * The public JWK of `key`. node:crypto exports no JWK for an RSA-PSS key; its JWK is the RSA one
 * (`kty` RSA, RFC 7518 §6.3), read from the PKCS#1 RSAPublicKey inside its SubjectPublicKeyInfo.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5280#section-4.1 (SubjectPublicKeyInfo)
 * @see https://www.rfc-editor.org/rfc/rfc8017#appendix-A.1.1 (RSAPublicKey)
 */
function publicJwk(key: KeyObject): JsonWebKey {
  if (key.asymmetricKeyType !== 'rsa-pss') return createPublicKey(key).export({ format: 'jwk' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const info = derContent(spki, 0); // SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const algorithm = derContent(spki, info.start);
  const bits = derContent(spki, algorithm.end);
  const rsaPublicKey = spki.subarray(bits.start + 1, bits.end); // after the BIT STRING's unused-bits byte
  return createPublicKey({ key: rsaPublicKey, format: 'der', type: 'pkcs1' }).export({ format: 'jwk' });
}

/** Where the content of the DER element at `offset` starts and ends (X.690 §8.1.3 lengths). */
function derContent(der: Buffer, offset: number): { start: number; end: number } {
  const first = der[offset + 1]!;
  if (first < 0x80) return { start: offset + 2, end: offset + 2 + first };
  const count = first & 0x7f;
  let length = 0;
  for (let index = 0; index < count; index++) length = length * 256 + der[offset + 2 + index]!;
  return { start: offset + 2 + count, end: offset + 2 + count + length };
}
