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
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
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

/**
 * Generate a fresh DPoP key. The key pair is generated as JWKs and the private one imported, never
 * exported from the `KeyObject` the generation made: on Node 20, exporting a generated key as a
 * JWK can deadlock the process when a garbage collection during the export destroys the
 * generation's job, which takes the lock the export holds (seen under load in the bench, with a
 * new key per login: the process stopped answering, its main thread waiting on that lock).
 */
export function generateDpopKey(): Promise<DpopKey> {
  return new Promise((resolve) => {
    const { privateKey } = generateJwkPair('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { format: 'jwk' },
      privateKeyEncoding: { format: 'jwk' },
    });
    resolve(keyFrom(createPrivateKey({ key: privateKey, format: 'jwk' }), privateKey));
  });
}

/** `generateKeyPairSync` with JWK encodings (Node 15.9+; @types/node does not declare the format). */
const generateJwkPair = generateKeyPairSync as unknown as (
  type: 'ec',
  options: {
    namedCurve: string;
    publicKeyEncoding: { format: 'jwk' };
    privateKeyEncoding: { format: 'jwk' };
  },
) => { publicKey: JsonWebKey; privateKey: JsonWebKey };

/** The private JWK of a key, to store (encrypted) in a session. */
export function exportDpopKey(key: DpopKey): string {
  return JSON.stringify(key.privateKey.export({ format: 'jwk' }));
}

/** Re-create a key from {@link exportDpopKey}'s output. */
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
