/**
 * Reading an OAuth error response (RFC 6749 §5.2, RFC 9126 §2.3) without trusting it: only
 * string `error`/`error_description` values of sane length are kept.
 *
 * @module
 */
import { asObject } from './http.js';

/** The AS's error fields, when present and well-formed. */
export interface AsErrorFields {
  asError?: string;
  asErrorDescription?: string;
}

const MAX_LENGTH = 512;

/** Extract `error` and `error_description` from a response body. */
export function readAsError(json: unknown): AsErrorFields {
  const body = asObject(json);
  const fields: AsErrorFields = {};
  if (typeof body?.error === 'string' && body.error.length <= MAX_LENGTH) fields.asError = body.error;
  if (typeof body?.error_description === 'string')
    fields.asErrorDescription = body.error_description.slice(0, MAX_LENGTH);
  return fields;
}

/** What to check when the AS rejects the client's credentials. */
export const INVALID_CLIENT_HINT =
  'The AS rejected the client authentication: check OIDC_CLIENT_ID, OIDC_CLIENT_AUTH_METHOD ' +
  'and the secret or key registered at the AS ' +
  '(for private_key_jwt: the public key or jwks_uri registered, the alg, and OIDC_ASSERTION_AUDIENCE; ' +
  'for tls_client_auth and self_signed_tls_client_auth: the certificate of OIDC_TLS_CLIENT_CERT, ' +
  'its subject or registered copy, and that the AS asks for ' +
  'client certificates at its mtls_endpoint_aliases, RFC 8705 §2 and §5).';
