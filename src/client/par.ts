/**
 * Pushing the authorization request (RFC 9126 §2): the parameters go over the back channel with
 * client authentication, and the AS answers `201 Created` with a `request_uri` and its `expires_in`
 * (§2.2). Anything else is a `par_error` that keeps the AS's `error` and `error_description` (§2.3).
 *
 * @module
 */
import { INVALID_CLIENT_HINT, readAsError } from './as-error.js';
import type { ClientAuthentication } from './client-auth.js';
import { ParLoginError } from '../errors.js';
import { asObject, type BackChannel } from './http.js';

/** The AS's answer to a push. */
export interface PushedRequest {
  /** The reference the browser carries to the authorization endpoint. */
  readonly requestUri: string;
  /** Its lifetime in seconds. */
  readonly expiresIn: number;
}

/** The longest `expires_in` accepted: RFC 9126 §2.2 suggests seconds to a few minutes. */
const MAX_EXPIRES_IN = 3600;

/**
 * Push the authorization request.
 *
 * @param endpoint The AS's `pushed_authorization_request_endpoint`.
 * @param params The authorization request parameters (client_id included), or `client_id` and a
 *   `request` object (RFC 9101).
 * @param maxExpiresIn The longest `expires_in` accepted, in seconds.
 * @throws {ParLoginError} `par_error`, or a transport code (`as_timeout`, `as_unreachable`, `as_bad_response`).
 */
export async function pushAuthorizationRequest(
  http: BackChannel,
  auth: ClientAuthentication,
  endpoint: string,
  params: URLSearchParams,
  maxExpiresIn = MAX_EXPIRES_IN,
): Promise<PushedRequest> {
  const headers = await auth.apply(params, endpoint);
  const response = await http.postForm(endpoint, params, headers, 'PAR');
  if (response.status !== 201) {
    const fields = readAsError(response.json);
    const hint = fields.asError === 'invalid_client' ? INVALID_CLIENT_HINT : undefined;
    throw new ParLoginError(
      'par_error',
      `The PAR endpoint answered ${response.status}${fields.asError ? ` (${fields.asError})` : ''}, not 201.`,
      { ...fields, ...(hint ? { hint } : {}) },
    );
  }
  const body = asObject(response.json);
  const requestUri = body?.request_uri;
  const expiresIn = body?.expires_in;
  if (typeof requestUri !== 'string' || requestUri.length === 0 || requestUri.length > 2048) {
    throw new ParLoginError('par_error', 'The PAR response has no usable request_uri.');
  }
  if (
    typeof expiresIn !== 'number' ||
    !Number.isInteger(expiresIn) ||
    expiresIn <= 0 ||
    expiresIn > maxExpiresIn
  ) {
    throw new ParLoginError(
      'par_error',
      `The PAR response's expires_in must be a positive integer of at most ${maxExpiresIn} seconds.`,
    );
  }
  return { requestUri, expiresIn };
}
