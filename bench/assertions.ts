/**
 * Single-use signed JWTs for the raw PAR references, as our middleware pushes them: private_key_jwt
 * client assertions (RFC 7523 §2.2, §3) and JAR request objects (RFC 9101 §4, §10.8). Each request
 * needs fresh ones (the AS refuses a reused assertion `jti`), so a pool is signed before a run and
 * drawn from during it, keeping signing out of the load generator's measured time.
 *
 * @module
 */
import { createPrivateKey, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Lifetime of both kinds, in seconds: what our middleware gives them (src/client/client-auth.ts, jar.ts). */
const LIFETIME = 60;

/** Signs ES256 JWTs under one header with one private JWK. */
function es256Signer(privateJwk: JWK, typ: string): (claims: Record<string, unknown>) => string {
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

/**
 * ES256 client assertions for one client and audience: header `typ: JWT`; `iss` = `sub` = client
 * id, `aud`, a unique `jti`, `iat` and `exp` (src/client/client-auth.ts).
 */
export function clientAssertions(privateJwk: JWK, clientId: string, audience: string): SignedPool {
  const signer = es256Signer(privateJwk, 'JWT');
  return new SignedPool(() => {
    const now = Math.floor(Date.now() / 1000);
    return signer({ iss: clientId, sub: clientId, aud: audience, jti: jti(), iat: now, exp: now + LIFETIME });
  });
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
  return new SignedPool(() => {
    const now = Math.floor(Date.now() / 1000);
    return signer({
      ...params(),
      client_id: clientId,
      iss: clientId,
      aud: audience,
      iat: now,
      nbf: now,
      exp: now + LIFETIME,
      jti: jti(),
    });
  });
}
