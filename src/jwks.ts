/**
 * The AS's JSON Web Key Set (RFC 7517 §5), fetched through the instance's back channel, cached,
 * and refetched once when a token names an unknown `kid` (key rotation), at most once per cooldown.
 *
 * @module
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ParLoginError } from './errors.js';
import { asObject, type BackChannel } from './http.js';

/**
 * Create a key resolver for `jwtVerify`.
 *
 * @param jwksUri Resolves the `jwks_uri` (from discovery).
 * @param cooldownSeconds Minimum time between refetches triggered by an unknown `kid`.
 */
export function createJwksResolver(http: BackChannel, jwksUri: () => Promise<string>, cooldownSeconds: number): JWTVerifyGetKey {
  let keySet: JWTVerifyGetKey | undefined;
  let fetchedAt = 0;
  let inFlight: Promise<JWTVerifyGetKey> | undefined;

  function load(): Promise<JWTVerifyGetKey> {
    inFlight ??= (async () => {
      try {
        const uri = await jwksUri();
        const response = await http.get(uri, 'JWKS');
        const body = asObject(response.json);
        if (response.status !== 200 || !Array.isArray(body?.keys)) {
          throw new ParLoginError('jwks_error', `The JWKS endpoint answered ${response.status}${body ? '' : ' without a JSON object'}; expected a JWK Set.`);
        }
        try {
          keySet = createLocalJWKSet(body as unknown as JSONWebKeySet);
        } catch (err) {
          throw new ParLoginError('jwks_error', 'The JWKS endpoint returned an invalid JWK Set.', { cause: err });
        }
        fetchedAt = Date.now();
        return keySet;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return async (header, token) => {
    const current = keySet ?? (await load());
    try {
      return await pick(current, header, token);
    } catch (err) {
      const canRefetch = Date.now() - fetchedAt >= cooldownSeconds * 1000;
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || !canRefetch) throw err;
      return pick(await load(), header, token);
    }
  };
}

/**
 * Select the token's key. A published key that cannot be imported (bad key material, a private
 * key) makes WebCrypto throw a plain `DataError`: that is a broken JWKS, not an internal error.
 */
async function pick(keys: JWTVerifyGetKey, ...args: Parameters<JWTVerifyGetKey>): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
  try {
    return await keys(...args);
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof ParLoginError) throw err;
    throw new ParLoginError('jwks_error', 'The JWKS has a key that cannot be imported.', { cause: err });
  }
}
