/**
 * Client authentication at the PAR and token endpoints, as a strategy chosen once per instance.
 *
 * - `client_secret_basic`: RFC 6749 §2.3.1. The id and secret are each form-urlencoded
 *   (application/x-www-form-urlencoded, so a space is `+`) before the Basic credentials are built.
 * - `client_secret_post`: RFC 6749 §2.3.1: `client_id` and `client_secret` in the form body.
 * - `tls_client_auth` / `self_signed_tls_client_auth`: RFC 8705 §2: the TLS client certificate
 *   (presented by the back channel's Agent) authenticates; the body carries `client_id`.
 * - `private_key_jwt`: OIDC Core §9 and RFC 7523 §2.2/§3: a JWT signed with the client's key, with
 *   `iss` = `sub` = client id, `aud`, a unique `jti`, `iat` and a short `exp`, by crypto/jws.ts (the
 *   signer of request objects and DPoP proofs too).
 *
 * RFC 9126 §2.1: the PAR request carries `client_id` in its body whatever the method.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 * @module
 */
import { randomToken } from '../crypto/random.js';
import { compactSigner } from '../crypto/jws.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { ClientAuthMethod } from '../config/options.js';

/** Adds client authentication to a back-channel form request. */
export interface ClientAuthentication {
  /** The method this strategy implements. */
  readonly method: ClientAuthMethod;
  /**
   * Authenticate a request to `endpoint`: may add form parameters, returns headers to send.
   * @param form The request body, changed in place.
   * @param endpoint The URL the request goes to (the assertion audience may be it).
   */
  apply(form: URLSearchParams, endpoint: string): Promise<Record<string, string>>;
}

/** The `client_assertion_type` of RFC 7523 §2.2. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Lifetime of a client assertion in seconds: short, it is used at once. */
const ASSERTION_LIFETIME = 60;

/** Form-urlencode one value (the serializer URLSearchParams uses). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** Build the strategy for a configuration; keys and header values are prepared here, once. */
export function createClientAuthentication(config: ResolvedConfig): ClientAuthentication {
  if (config.clientAuthMethod === 'client_secret_basic') {
    const credentials = `${formEncode(config.clientId)}:${formEncode(config.clientSecret as string)}`;
    const headers = Object.freeze({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
    return {
      method: 'client_secret_basic',
      apply: () => Promise.resolve(headers),
    };
  }
  if (config.clientAuthMethod === 'client_secret_post') {
    const secret = config.clientSecret as string;
    return {
      method: 'client_secret_post',
      apply(form) {
        form.set('client_id', config.clientId);
        form.set('client_secret', secret);
        return Promise.resolve({});
      },
    };
  }
  if (
    config.clientAuthMethod === 'tls_client_auth' ||
    config.clientAuthMethod === 'self_signed_tls_client_auth'
  ) {
    return {
      method: config.clientAuthMethod,
      apply(form) {
        form.set('client_id', config.clientId);
        return Promise.resolve({});
      },
    };
  }
  const { key, alg, kid } = config.signingKey!;
  // Key checked and header encoded once; each assertion is signed synchronously with node:crypto
  // (a WebCrypto job per assertion costs about three times the CPU, crypto/jws.ts).
  const sign = compactSigner({ alg, kid, typ: 'JWT' }, key);
  const authenticate = (form: URLSearchParams, endpoint: string): Record<string, string> => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = sign({
      iss: config.clientId,
      sub: config.clientId,
      aud: config.assertionAudience === 'endpoint' ? endpoint : config.issuer,
      jti: randomToken(16),
      iat: now,
      exp: now + ASSERTION_LIFETIME,
    });
    form.set('client_assertion_type', JWT_BEARER_ASSERTION);
    form.set('client_assertion', assertion);
    return {};
  };
  return {
    method: 'private_key_jwt',
    // A failure to sign rejects the promise, as it did when apply was async.
    apply: (form, endpoint) => new Promise((resolve) => resolve(authenticate(form, endpoint))),
  };
}
