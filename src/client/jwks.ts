/**
 * The AS's JSON Web Key Set (RFC 7517 §5), fetched through the instance's back channel, cached,
 * and refetched once when a token names a key the set does not have (key rotation, OIDC Core
 * §10.1.1), at most once per cooldown.
 *
 * Keys are selected for a JWS header the way RFC 7517 §4 describes their members: the `kid`, the
 * key type (and curve) the `alg` needs, `alg` when the key names one, `use` = `sig` and `key_ops`
 * containing `verify` when present. Each selected key is imported once with `node:crypto` and kept
 * with the set; a key with private members, or one that cannot be imported, is a broken JWKS
 * (`jwks_error`), never an internal error.
 *
 * @module
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ParLoginError } from '../errors.js';
import { asObject, type BackChannel } from './http.js';
import { jwkFitsAlgorithm } from '../crypto/jws.js';

/** The header members a key is selected by. */
export interface KeySelector {
  readonly alg: string;
  readonly kid?: unknown;
}

/**
 * The AS's keys that may have signed a JWS with this header: usually one; several when the set has
 * several that fit (which verifyJwt refuses, OIDC Core §10.1). Empty when none does, even after a refetch.
 *
 * @throws {ParLoginError} `jwks_error`, or a transport code, when the set cannot be had.
 */
export type KeyResolver = (header: KeySelector) => Promise<readonly KeyObject[]>;

/** RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2: members only a private or secret key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

type Jwk = Record<string, unknown>;

/** Whether the JWK may be the key of a JWS with `header` (RFC 7517 §4.1–§4.5). */
function selectable(jwk: Jwk, header: KeySelector): boolean {
  if (header.kid !== undefined && jwk.kid !== header.kid) return false;
  // The key type and curve the alg needs: ES256 is P-256 only (RFC 7518 §3.4).
  if (!jwkFitsAlgorithm(jwk, header.alg)) return false;
  if (jwk.alg !== undefined && jwk.alg !== header.alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return false;
  return true;
}

/** A fetched key set: its JWKs and the keys imported from them so far. */
class KeySet {
  readonly #jwks: readonly Jwk[];
  readonly #imported = new Map<Jwk, KeyObject>();

  constructor(jwks: readonly Jwk[]) {
    this.#jwks = jwks;
  }

  /** The keys fitting `header`, imported (once each). */
  select(header: KeySelector): KeyObject[] {
    return this.#jwks.filter((jwk) => selectable(jwk, header)).map((jwk) => this.#import(jwk));
  }

  #import(jwk: Jwk): KeyObject {
    let key = this.#imported.get(jwk);
    if (key !== undefined) return key;
    if (PRIVATE_MEMBERS.some((name) => jwk[name] !== undefined)) {
      throw new ParLoginError(
        'jwks_error',
        'The JWKS publishes a private or secret key; an AS publishes public keys only.',
      );
    }
    try {
      key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch (err) {
      throw new ParLoginError('jwks_error', 'The JWKS has a key that cannot be imported.', { cause: err });
    }
    this.#imported.set(jwk, key);
    return key;
  }
}

/**
 * Create the key resolver of one instance.
 *
 * @param jwksUri Resolves the `jwks_uri` (from discovery).
 * @param cooldownSeconds Minimum time between refetches triggered by a key the set does not have.
 */
export function createJwksResolver(
  http: BackChannel,
  jwksUri: () => Promise<string>,
  cooldownSeconds: number,
): KeyResolver {
  let keySet: KeySet | undefined;
  let fetchedAt = 0;
  let inFlight: Promise<KeySet> | undefined;

  function load(): Promise<KeySet> {
    inFlight ??= (async () => {
      try {
        const uri = await jwksUri();
        const response = await http.get(uri, 'JWKS');
        const body = asObject(response.json);
        if (response.status !== 200 || !Array.isArray(body?.keys)) {
          throw new ParLoginError(
            'jwks_error',
            `The JWKS endpoint answered ${response.status}${body ? '' : ' without a JSON object'}; expected a JWK Set.`,
          );
        }
        const jwks = (body.keys as unknown[]).map(asObject);
        if (jwks.some((jwk) => jwk === undefined || typeof jwk.kty !== 'string')) {
          throw new ParLoginError(
            'jwks_error',
            'The JWKS endpoint returned an invalid JWK Set (every key must be an object with a kty).',
          );
        }
        keySet = new KeySet(jwks as Jwk[]);
        fetchedAt = Date.now();
        return keySet;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return async (header) => {
    const keys = (keySet ?? (await load())).select(header);
    if (keys.length > 0 || Date.now() - fetchedAt < cooldownSeconds * 1000) return keys;
    return (await load()).select(header);
  };
}
