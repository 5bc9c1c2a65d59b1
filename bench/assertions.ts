/**
 * Single-use signed JWTs for the raw PAR references, as our middleware pushes them: private_key_jwt
 * client assertions (RFC 7523 §2.2, §3) and JAR request objects (RFC 9101 §4, §10.8). Each request
 * needs fresh ones (the AS refuses a reused assertion `jti`), so a pool is signed before a run and
 * drawn from during it, keeping signing out of the load generator's measured time. The floor apps
 * (apps.ts) sign the same claims with the same signer, one of each per login, at request time.
 *
 * @module
 */
import { createPrivateKey, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Lifetime of both kinds, in seconds: what our middleware gives them (src/client/client-auth.ts, jar.ts). */
const LIFETIME = 60;

/**
 * Signs ES256 JWTs under one header (`alg`, `kid`, `typ`) with one private JWK, imported once as a
 * `KeyObject`; each call signs with `node:crypto` (also the floor app's signer, apps.ts).
 */
export function es256Signer(privateJwk: JWK, typ: string): (claims: Record<string, unknown>) => string {
  if (privateJwk.alg !== undefined && privateJwk.alg !== 'ES256')
    throw new Error(`not an ES256 key: ${privateJwk.alg}`);
  const key: KeyObject = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
  const header = b64({ alg: 'ES256', kid: privateJwk.kid, typ });
  return (claims) => {
    const input = `${header}.${b64(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };
}

const jti = (): string => randomBytes(16).toString('base64url');

/** A pool of single-use signed values, signed ahead of a run. */
export class SignedPool {
  readonly #sign: () => string;
  #pool: string[] = [];
  /** Values signed during runs because the pool ran dry. */
  signedLate = 0;

  constructor(sign: () => string) {
    this.#sign = sign;
  }

  /** One fresh value. */
  sign(): string {
    return this.#sign();
  }

  /** Replace the pool with `count` fresh values. */
  fill(count: number): void {
    this.#pool = Array.from({ length: count }, this.#sign);
  }

  /** An unused value: from the pool, or signed now when it is empty. */
  take(): string {
    const value = this.#pool.pop();
    if (value !== undefined) return value;
    this.signedLate += 1;
    return this.#sign();
  }
}

/** A client assertion's claims: `iss` = `sub` = client id, `aud`, a unique `jti`, `iat` and `exp`. */
export function assertionClaims(clientId: string, audience: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: audience, jti: jti(), iat: now, exp: now + LIFETIME };
}

/**
 * A request object's claims: the authorization parameters, `client_id`, then `iss` = client id,
 * `aud`, `iat`, `nbf`, `exp` and a unique `jti` (src/client/jar.ts).
 */
export function requestObjectClaims(
  params: Record<string, string>,
  clientId: string,
  audience: string,
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    ...params,
    client_id: clientId,
    iss: clientId,
    aud: audience,
    iat: now,
    nbf: now,
    exp: now + LIFETIME,
    jti: jti(),
  };
}

/**
 * ES256 client assertions for one client and audience: header `typ: JWT`, {@link assertionClaims}
 * (src/client/client-auth.ts).
 */
export function clientAssertions(privateJwk: JWK, clientId: string, audience: string): SignedPool {
  const signer = es256Signer(privateJwk, 'JWT');
  return new SignedPool(() => signer(assertionClaims(clientId, audience)));
}

/**
 * ES256 request objects (JAR) for one client and audience, as src/client/jar.ts signs them: header
 * `typ: oauth-authz-req+jwt`; the authorization parameters from `params()` (fresh ones per object),
 * `client_id`, then `iss` = client id, `aud` = the issuer, `iat`, `nbf`, `exp` and a unique `jti`.
 */
export function requestObjects(
  privateJwk: JWK,
  clientId: string,
  audience: string,
  params: () => Record<string, string>,
): SignedPool {
  const signer = es256Signer(privateJwk, 'oauth-authz-req+jwt');
  return new SignedPool(() => signer(requestObjectClaims(params(), clientId, audience)));
}
