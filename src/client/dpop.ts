/**
 * DPoP (RFC 9449): sender-constrained tokens. The client holds an asymmetric key (ES256 on P-256)
 * on the server; its RFC 7638 thumbprint goes to the PAR endpoint as `dpop_jkt` (§10) so the code
 * is bound to it; every token request carries a DPoP proof (§4) in the `DPoP` header, and calls
 * with the access token carry one with `ath` (§4.2, §7). A `use_dpop_nonce` error with a
 * `DPoP-Nonce` header is answered by one retry with that nonce (§8).
 *
 * The key is kept per session (exported as a private JWK, encrypted in the session) or per instance,
 * as a `node:crypto` KeyObject; proofs are signed with it by crypto/jws.ts, the signer of client
 * assertions and request objects.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc7638
 * @module
 */
import { createECDH, createHash, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { compactSigner, type CompactSigner } from '../crypto/jws.js';
import { randomToken } from '../crypto/random.js';
import { jwkThumbprint } from '../crypto/signing-key.js';

/** A DPoP key pair with its public JWK and thumbprint. */
export interface DpopKey {
  /** The private key (P-256), never leaving the server; it signs every proof. */
  readonly privateKey: KeyObject;
  /** The public JWK, put in every proof's header. */
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint (SHA-256, base64url): the `dpop_jkt` and the token's `cnf.jkt`. */
  readonly jkt: string;
}

/** What one proof is for (RFC 9449 §4.2). */
export interface DpopProofClaims {
  /** The HTTP method of the request. */
  htm: string;
  /** The target URI of the request (its query and fragment are dropped). */
  htu: string;
  /** The access token sent with the request, to bind the proof with `ath`. */
  accessToken?: string;
  /** A server-provided nonce (`DPoP-Nonce`). */
  nonce?: string;
}

/** The JWS algorithm of proofs: ES256 (allowed by FAPI 2.0, supported by every DPoP server). */
export const DPOP_ALG = 'ES256';

/** The key of a private JWK; `jwk` defaults to the key's own export. */
function keyFrom(privateKey: KeyObject, jwk: JsonWebKey = privateKey.export({ format: 'jwk' })): DpopKey {
  const { kty, crv, x, y } = jwk;
  const publicJwk = Object.freeze({ kty, crv, x, y }) as JWK;
  return Object.freeze({ privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) });
}

/** A new key as the private JWK that {@link importDpopKey} reads, with its thumbprint. */
export interface ExportedDpopKey {
  /** RFC 7638 thumbprint of the public key: the `dpop_jkt` a login pushes. */
  readonly jkt: string;
  /** The private JWK (JSON), to keep encrypted until the key signs a proof. */
  readonly exported: string;
}

/** Length of a P-256 coordinate and private scalar, in bytes. */
const P256_BYTES = 32;

/**
 * The P-256 key generator: `generateKeys()` gives it a new key pair on each call, read back at once
 * (the calls are synchronous, so no two logins ever share its state).
 */
const p256 = createECDH('prime256v1');

/**
 * A fresh P-256 key, as its private JWK and thumbprint, without making a `KeyObject`: a login start
 * needs only the thumbprint (RFC 9449 §10), and the private key is imported when it first signs a
 * proof, at the callback. An ECDH key pair is an EC key pair on the curve, usable for ES256; this is
 * about 7 times cheaper than `generateKeyPairSync`'s JWK output plus its import.
 *
 * The public point is uncompressed, `04 || X || Y` (SEC 1 §2.3.3); the private scalar comes
 * without leading zero bytes, so it is padded to the 32 octets a JWK's `d` must have (RFC 7518
 * §6.2.2.1); one key in 256 has a shorter scalar.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6.2
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-10
 */
export function newExportedDpopKey(): ExportedDpopKey {
  p256.generateKeys();
  const point = p256.getPublicKey();
  const publicJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 1 + P256_BYTES).toString('base64url'),
    y: point.subarray(1 + P256_BYTES).toString('base64url'),
  };
  const scalar = p256.getPrivateKey();
  const d = Buffer.concat([Buffer.alloc(P256_BYTES - scalar.length), scalar]).toString('base64url');
  return { jkt: jwkThumbprint(publicJwk), exported: JSON.stringify({ ...publicJwk, d }) };
}

/**
 * Generate a fresh DPoP key, imported from {@link newExportedDpopKey}'s JWK. No key is ever made by
 * `generateKeyPairSync` and exported: on Node 20, exporting such a key as a JWK can deadlock the
 * process when a garbage collection during the export destroys the generation's job, which takes
 * the lock the export holds (seen under load in the bench, with a new key per login: the process
 * stopped answering, its main thread waiting on that lock).
 */
export function generateDpopKey(): Promise<DpopKey> {
  return importDpopKey(newExportedDpopKey().exported);
}

/** Re-create a key from a private JWK: {@link newExportedDpopKey}'s `exported`. */
export function importDpopKey(exported: string): Promise<DpopKey> {
  return new Promise((resolve) =>
    resolve(keyFrom(createPrivateKey({ key: JSON.parse(exported) as JsonWebKey, format: 'jwk' }))),
  );
}

/**
 * Each key's proof signer, made on its first proof: the key checked and the header, whose only
 * variable part is the key's public JWK, encoded once per key rather than once per proof.
 */
const signers = new WeakMap<DpopKey, CompactSigner>();

function signerOf(key: DpopKey): CompactSigner {
  let signer = signers.get(key);
  if (signer === undefined) {
    signer = compactSigner({ typ: 'dpop+jwt', alg: DPOP_ALG, jwk: key.publicJwk }, key.privateKey);
    signers.set(key, signer);
  }
  return signer;
}

/**
 * Create a DPoP proof JWT (RFC 9449 §4.2): header `typ: dpop+jwt`, `alg`, `jwk` (the public key);
 * claims `htm`, `htu` (without query and fragment), `ath` (base64url SHA-256 of the access token,
 * §4.2 and §7) and `nonce` (§8) when given, a unique `jti` and `iat`. Signed synchronously with
 * `node:crypto` (crypto/jws.ts); the promise is kept for the callers.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 */
export function createDpopProof(key: DpopKey, claims: DpopProofClaims): Promise<string> {
  return new Promise((resolve) => resolve(signProof(key, claims)));
}

function signProof(key: DpopKey, claims: DpopProofClaims): string {
  const signer = signerOf(key);
  const htu = new URL(claims.htu);
  htu.search = '';
  htu.hash = '';
  // The claim order of the jose-signed proofs before: the request's claims, then jti, then iat.
  const payload: Record<string, unknown> = { htm: claims.htm, htu: htu.href };
  if (claims.accessToken !== undefined)
    payload.ath = createHash('sha256').update(claims.accessToken).digest('base64url');
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  payload.jti = randomToken(16);
  payload.iat = Math.floor(Date.now() / 1000);
  return signer(payload);
}

/** A `DPoP-Nonce` header value (§8.1: NQCHAR, here at most 512 of them), or `undefined`. */
function nonceOf(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const nonce = headers['dpop-nonce'];
  return typeof nonce === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/.test(nonce) ? nonce : undefined;
}

/**
 * Whether an AS's error response asks for a DPoP nonce (§8): `use_dpop_nonce` with a `DPoP-Nonce`
 * header. Returns the nonce.
 */
export function requestedNonce(
  status: number,
  error: string | undefined,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  return (status === 400 || status === 401) && error === 'use_dpop_nonce' ? nonceOf(headers) : undefined;
}

/**
 * Whether a resource server's answer asks for a DPoP nonce (§9): 401 with `use_dpop_nonce` in
 * `WWW-Authenticate` and a `DPoP-Nonce` header. Returns the nonce.
 */
export function resourceServerNonce(
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  return status === 401 && /use_dpop_nonce/.test(String(headers['www-authenticate'] ?? ''))
    ? nonceOf(headers)
    : undefined;
}
