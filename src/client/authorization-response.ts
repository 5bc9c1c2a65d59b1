/**
 * Reading and checking the authorization response the browser brings to the callback, before
 * anything is sent to the AS: parameters not repeated (RFC 6749 §3.1), `state` present and the
 * pending login's (RFC 6749 §4.1.2, §10.12), `iss` the configured issuer (RFC 9207 §2.4), then
 * either an error response (RFC 6749 §4.1.2.1) or a code. Pure: no I/O, no clock.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-4 (an expired request_uri)
 * @module
 */
import { ParLoginError } from '../errors.js';

const SINGLE_VALUED = ['state', 'code', 'iss', 'error', 'error_description'] as const;
/** Errors meaning the `request_uri` expired or is unknown to the AS (RFC 9126 §4; oidc-provider sends the first). */
const EXPIRED_REQUEST_URI = new Set(['invalid_request_uri']);
const PAR_DEMANDED = /pushed|\bPAR\b|request_uri/i;
const MAX_ERROR_LENGTH = 128;
const MAX_ERROR_DESCRIPTION_LENGTH = 512;

/** The authorization response's parameters, each present at most once. */
export type AuthorizationResponse = Partial<Record<(typeof SINGLE_VALUED)[number], string>>;

/** What the response is checked against. */
export interface ResponseExpectations {
  /** The pending login's `state`. */
  readonly state: string;
  /** The configured issuer. */
  readonly issuer: string;
  /** Whether `iss` must be present: configured (`requireIss`), or advertised in the AS's metadata (RFC 9207 §3). */
  readonly issRequired: boolean;
  /** Whether the login went through the browser (`par: 'auto'` without PAR at the AS). */
  readonly classic?: boolean;
}

/** The outcome of a valid response: a code to exchange, or an expired `request_uri` to push again. */
export type ResponseOutcome =
  { readonly code: string } | { readonly requestUriExpired: true; readonly error: ParLoginError };

/**
 * Parse the callback's query string (without `?`).
 *
 * @throws {ParLoginError} `invalid_request` when a parameter is repeated.
 */
export function parseAuthorizationResponse(query: string): AuthorizationResponse {
  const params = new URLSearchParams(query);
  const response: AuthorizationResponse = {};
  for (const name of SINGLE_VALUED) {
    const values = params.getAll(name);
    if (values.length > 1)
      throw new ParLoginError('invalid_request', `The callback has the parameter "${name}" more than once.`);
    if (values[0] !== undefined) response[name] = values[0];
  }
  return response;
}

/** Whether the response says the `request_uri` expired and, the AS no longer knowing it, carries no `state`. */
export function isStatelessExpiry(response: AuthorizationResponse): boolean {
  return isRequestUriExpiry(response) && (response.state ?? '') === '';
}

/**
 * Check a response against its pending login.
 *
 * @throws {ParLoginError} `state_missing`, `state_unknown`, `iss_missing`, `iss_mismatch`,
 *   `authorization_error`, `par_required` or `code_missing`.
 */
export function validateAuthorizationResponse(
  response: AuthorizationResponse,
  expected: ResponseExpectations,
): ResponseOutcome {
  requireState(response);
  if (response.state !== expected.state)
    throw new ParLoginError('state_unknown', 'This sign-in response does not belong to this sign-in.');
  checkIssuer(response.iss, expected.issuer, expected.issRequired);
  if (response.error !== undefined) {
    const error = authorizationError(response, expected.classic === true);
    if (isRequestUriExpiry(response)) return { requestUriExpired: true, error };
    throw error;
  }
  if (response.code === undefined || response.code === '')
    throw new ParLoginError('code_missing', 'The sign-in response has neither a code nor an error.');
  return { code: response.code };
}

/** @throws {ParLoginError} `state_missing` when the response has no `state`. */
export function requireState(
  response: AuthorizationResponse,
): asserts response is AuthorizationResponse & { state: string } {
  if (response.state === undefined || response.state === '') {
    throw new ParLoginError('state_missing', 'The sign-in response has no state.', {
      hint: 'Open the app and sign in from there; this address is only for the authorization server.',
    });
  }
}

/**
 * RFC 9207 §2.4: `iss`, when present, must be the issuer; when required, it must be present.
 *
 * @throws {ParLoginError} `iss_missing` or `iss_mismatch`.
 */
export function checkIssuer(iss: string | undefined, issuer: string, required: boolean): void {
  if (iss === undefined) {
    if (!required) return;
    throw new ParLoginError(
      'iss_missing',
      'The sign-in response has no "iss" although the authorization server must send it (RFC 9207).',
    );
  }
  if (iss !== issuer)
    throw new ParLoginError(
      'iss_mismatch',
      'The sign-in response comes from a different issuer than the one this sign-in was sent to (RFC 9207).',
    );
}

/**
 * The {@link ParLoginError} details of an error response, capped: the AS's description is shown
 * only for a `matched` response, else kept as the cause (logged, never shown).
 */
function errorDetails(
  error: string,
  description: string | undefined,
  matched: boolean,
): { asError: string; asErrorDescription?: string; cause?: Error } {
  const asError = error.slice(0, MAX_ERROR_LENGTH);
  if (!description) return { asError };
  const capped = description.slice(0, MAX_ERROR_DESCRIPTION_LENGTH);
  if (matched) return { asError, asErrorDescription: capped };
  const unshown = `the error_description of a response no login of this browser matches: ${JSON.stringify(capped)}`;
  return { asError, cause: new Error(unshown) };
}

/**
 * The coded error for an error response (its `error` and description length-capped).
 *
 * @param matched Whether the response belongs to a login this browser started (its `state` named
 *   a pending login bound to this browser, which was taken). Only then are the AS's words shown:
 *   anyone can send a browser to the callback with an `error_description` of their choosing, which
 *   would read as the app's own message; it goes to the log record only (as the cause). Its
 *   `error` is shown: the callback reports an unmatched response only when that is
 *   `invalid_request_uri` (an expiry reported without `state`), a stateful one only once matched.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
 */
export function authorizationError(
  response: AuthorizationResponse,
  classic: boolean,
  matched = true,
): ParLoginError {
  const error = response.error ?? 'server_error';
  const details = errorDetails(error, response.error_description, matched);
  if (classic && error === 'invalid_request' && PAR_DEMANDED.test(response.error_description ?? '')) {
    return new ParLoginError(
      'par_required',
      'The authorization server demands pushed authorization requests, but it does not publish a PAR endpoint.',
      details,
    );
  }
  if (EXPIRED_REQUEST_URI.has(error)) {
    return new ParLoginError('authorization_error', 'The sign-in request expired at the sign-in service.', {
      ...details,
      hint: 'Start a new sign-in and complete it within the time allowed.',
    });
  }
  return new ParLoginError(
    'authorization_error',
    `The sign-in did not succeed (${details.asError}).`,
    details,
  );
}

function isRequestUriExpiry(response: AuthorizationResponse): boolean {
  return response.error !== undefined && EXPIRED_REQUEST_URI.has(response.error);
}
