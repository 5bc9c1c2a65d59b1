/**
 * private_key_jwt client assertions (RFC 7523 §2.2, §3) for the raw PAR reference: each request
 * needs a fresh one (the AS refuses a reused `jti`), so a pool is signed before a run and drawn
 * from during it, keeping signing out of the load generator's measured time.
 *
 * @module
 */
import { createPrivateKey, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs ES256 client assertions for one client and audience. */
export class AssertionPool {
  readonly #key: KeyObject;
  readonly #header: string;
  readonly #clientId: string;
  readonly #audience: string;
  #pool: string[] = [];
  /** Assertions signed during runs because the pool ran dry. */
  signedLate = 0;

  constructor(privateJwk: JWK, clientId: string, audience: string) {
    this.#key = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
    this.#header = b64({ alg: 'ES256', kid: privateJwk.kid, typ: 'JWT' });
    this.#clientId = clientId;
    this.#audience = audience;
  }

  /** One fresh assertion. */
  sign(): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = b64({
      iss: this.#clientId,
      sub: this.#clientId,
      aud: this.#audience,
      jti: randomBytes(16).toString('base64url'),
      iat: now,
      exp: now + 300,
    });
    const input = `${this.#header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** Replace the pool with `count` fresh assertions. */
  fill(count: number): void {
    this.#pool = Array.from({ length: count }, () => this.sign());
  }

  /** An unused assertion: from the pool, or signed now when it is empty. */
  take(): string {
    const assertion = this.#pool.pop();
    if (assertion !== undefined) return assertion;
    this.signedLate += 1;
    return this.sign();
  }
}
