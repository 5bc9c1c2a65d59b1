/**
 * JWS Compact Serialization (RFC 7515 §3.1, §7.1) signed and verified with `node:crypto` and keys
 * imported once, for the algorithms of RFC 7518 §3.3–§3.5 (RSxxx, PSxxx, ESxxx) and RFC 8037 §3.1
 * (EdDSA, also named Ed25519 by RFC 9864).
 *
 * Why not jose for this step: jose 6 signs and verifies through WebCrypto, whose every operation is a
 * job on the libuv pool behind a promise. On the login hot path (one client assertion per push and
 * per token request, one ID token per callback) a synchronous `node:crypto` call with a `KeyObject`
 * costs a quarter to a third of that CPU (bench/README.md). The algorithm is always taken from the
 * configuration or checked against an allow-list before a key is used (RFC 8725 §3.1, §3.2).
 *
 * @module
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { invalidArgument } from '../errors.js';

/** How `node:crypto` runs one JWS algorithm. */
interface AlgorithmSpec {
  /** The digest (`null` for EdDSA, which hashes internally). */
  readonly hash: string | null;
  /** The key type it needs (`KeyObject.asymmetricKeyType`). */
  readonly keyTypes: readonly string[];
  /** The EC curve it needs (RFC 7518 §3.4), for ESxxx, as OpenSSL names it. */
  readonly curve?: string;
  /** The JWK `kty` of its keys (RFC 7518 §6.1, RFC 8037 §2). */
  readonly kty: 'RSA' | 'EC' | 'OKP';
  /** The JWK `crv` its keys must have, for EC and OKP keys (RFC 7518 §6.2.1.1, RFC 8037 §3.1). */
  readonly crv?: string;
  /** RSASSA-PSS with a salt as long as the digest (RFC 7518 §3.5). */
  readonly pss?: boolean;
}

const ALGORITHMS: Readonly<Record<string, AlgorithmSpec>> = Object.freeze({
  RS256: { hash: 'sha256', keyTypes: ['rsa'], kty: 'RSA' },
  RS384: { hash: 'sha384', keyTypes: ['rsa'], kty: 'RSA' },
  RS512: { hash: 'sha512', keyTypes: ['rsa'], kty: 'RSA' },
  PS256: { hash: 'sha256', keyTypes: ['rsa', 'rsa-pss'], pss: true, kty: 'RSA' },
  PS384: { hash: 'sha384', keyTypes: ['rsa', 'rsa-pss'], pss: true, kty: 'RSA' },
  PS512: { hash: 'sha512', keyTypes: ['rsa', 'rsa-pss'], pss: true, kty: 'RSA' },
  ES256: { hash: 'sha256', keyTypes: ['ec'], curve: 'prime256v1', kty: 'EC', crv: 'P-256' },
  ES384: { hash: 'sha384', keyTypes: ['ec'], curve: 'secp384r1', kty: 'EC', crv: 'P-384' },
  ES512: { hash: 'sha512', keyTypes: ['ec'], curve: 'secp521r1', kty: 'EC', crv: 'P-521' },
  EdDSA: { hash: null, keyTypes: ['ed25519'], kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { hash: null, keyTypes: ['ed25519'], kty: 'OKP', crv: 'Ed25519' },
});

/** The JWS algorithms this module signs and verifies. */
export const JWS_ALGORITHMS: readonly string[] = Object.freeze(Object.keys(ALGORITHMS));

const specOf = (alg: string): AlgorithmSpec | undefined =>
  Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;

/** Whether `key` can sign or verify with `alg` (type and, for EC, curve). */
export function keyFitsAlgorithm(key: KeyObject, alg: string): boolean {
  const spec = specOf(alg);
  if (spec === undefined || !spec.keyTypes.includes(key.asymmetricKeyType ?? '')) return false;
  return spec.curve === undefined || key.asymmetricKeyDetails?.namedCurve === spec.curve;
}

/** Whether a JWK's `kty` (and `crv`) are those `alg` needs, before the key is imported. */
export function jwkFitsAlgorithm(
  jwk: { readonly kty?: unknown; readonly crv?: unknown },
  alg: string,
): boolean {
  const spec = specOf(alg);
  return spec !== undefined && jwk.kty === spec.kty && (spec.crv === undefined || jwk.crv === spec.crv);
}

function keyInput(key: KeyObject, spec: AlgorithmSpec) {
  if (spec.pss)
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  // JWS carries ECDSA signatures as R || S (RFC 7518 §3.4), not DER.
  if (spec.curve !== undefined) return { key, dsaEncoding: 'ieee-p1363' as const };
  return { key };
}

/** A JWS segment (RFC 7515 §7.1): the JSON of `value`, UTF-8, base64url. */
export const encodeSegment = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs JWT Claims Sets under one protected header with one key, prepared by {@link compactSigner}. */
export type CompactSigner = (payload: Readonly<Record<string, unknown>>) => string;

/**
 * Prepare to sign JWTs (RFC 7519 §7.1) under one protected header with one key: the key is checked
 * against `header.alg` and the header is serialized and base64url-encoded here, once, so that each
 * call encodes only the payload and signs (RFC 7515 §5.1). Use it wherever the header is constant.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` when the algorithm is unknown or does not fit the key.
 */
export function compactSigner(
  header: Readonly<Record<string, unknown>> & { readonly alg: string },
  key: KeyObject,
): CompactSigner {
  if (!keyFitsAlgorithm(key, header.alg)) {
    throw invalidArgument(`cannot sign with ${header.alg} using a ${String(key.asymmetricKeyType)} key`);
  }
  const spec = ALGORITHMS[header.alg]!;
  const signingKey = keyInput(key, spec);
  const encodedHeader = `${encodeSegment(header)}.`;
  return (payload) => {
    const input = encodedHeader + encodeSegment(payload);
    return `${input}.${sign(spec.hash, Buffer.from(input), signingKey).toString('base64url')}`;
  };
}

/** A compact JWS split and decoded, its signature not yet checked. */
export interface DecodedJws {
  /** The protected header (RFC 7515 §4). */
  readonly header: Readonly<Record<string, unknown>> & { readonly alg: string };
  /** The payload, a JSON object (a JWT Claims Set, RFC 7519 §7.2 step 10). */
  readonly payload: Readonly<Record<string, unknown>>;
  /** `header.payload`, the bytes the signature covers. */
  readonly signingInput: string;
  /** The decoded signature. */
  readonly signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeObject(segment: string): Record<string, unknown> | undefined {
  if (segment === '' || !BASE64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Split a compact JWS into its parts (RFC 7515 §5.2 steps 1–7): three base64url segments, a JSON
 * object header with a string `alg` and no `crit` (no extension is understood here, §4.1.11), and a
 * JSON object payload. Returns a reason instead of throwing.
 */
export function decodeCompact(token: string): DecodedJws | { problem: string } {
  if (typeof token !== 'string') return { problem: 'it is not a string' };
  const parts = token.split('.');
  if (parts.length !== 3) return { problem: 'it is not a compact JWS (three dot-separated parts)' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeObject(headerPart);
  if (header === undefined || typeof header.alg !== 'string')
    return { problem: 'its header is not a JSON object with an alg' };
  if (header.crit !== undefined)
    return { problem: 'its header has critical extensions this client does not understand' };
  const payload = decodeObject(payloadPart);
  if (payload === undefined) return { problem: 'its payload is not a JSON object' };
  if (!BASE64URL.test(signaturePart)) return { problem: 'its signature is not base64url' };
  return {
    header: header as DecodedJws['header'],
    payload,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}

/** Whether `signature` over `signingInput` verifies with `key` under `alg` (`false` for a key that does not fit). */
export function verifySignature(
  alg: string,
  signingInput: string,
  signature: Buffer,
  key: KeyObject,
): boolean {
  if (!keyFitsAlgorithm(key, alg)) return false;
  const spec = ALGORITHMS[alg]!;
  try {
    return verify(spec.hash, Buffer.from(signingInput), keyInput(key, spec), signature);
  } catch {
    return false; // e.g. an ECDSA signature of the wrong length
  }
}

/**
 * The smallest RSA modulus accepted, for the AS's keys and the client's own: RFC 7518 §3.3 requires
 * 2048 bits for RS256/PS256, and FAPI 2.0 §5.4.1 the same.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.3
 * @see https://openid.net/specs/fapi-security-profile-2_0-final.html#section-5.4.1
 */
export const MIN_RSA_BITS = 2048;

/** The modulus size of an RSA key (RSA-PSS included), else `undefined`. */
export function rsaBits(key: KeyObject): number | undefined {
  return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss'
    ? key.asymmetricKeyDetails?.modulusLength
    : undefined;
}
