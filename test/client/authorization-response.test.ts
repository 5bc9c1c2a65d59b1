/** The authorization response, checked before anything goes to the AS: no AS needed. */
import { describe, expect, it } from '@jest/globals';
import {
  authorizationError,
  isStatelessExpiry,
  parseAuthorizationResponse,
  validateAuthorizationResponse,
  type ResponseExpectations,
} from '../../src/client/authorization-response.js';
import { ParLoginError } from '../../src/errors.js';

const issuer = 'https://as.example';
const expected: ResponseExpectations = { state: 'the-state', issuer, issRequired: true };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ParLoginError ? err.code : `not coded: ${String(err)}`;
  }
  return undefined;
}

describe('parseAuthorizationResponse', () => {
  it('keeps the five response parameters and drops the others', () => {
    expect(parseAuthorizationResponse('state=s&code=c&iss=i&error=e&error_description=d&other=x')).toEqual({
      state: 's',
      code: 'c',
      iss: 'i',
      error: 'e',
      error_description: 'd',
    });
  });

  it.each(['state', 'code', 'iss', 'error', 'error_description'])(
    'refuses a repeated %s (RFC 6749 §3.1)',
    (name) => {
      expect(codeOf(() => parseAuthorizationResponse(`${name}=a&${name}=b`))).toBe('invalid_request');
    },
  );
});

describe('validateAuthorizationResponse', () => {
  const valid = { state: 'the-state', code: 'the-code', iss: issuer };

  it('gives the code of a response that matches its login', () => {
    expect(validateAuthorizationResponse(valid, expected)).toEqual({ code: 'the-code' });
  });

  it.each([
    ['no state', { ...valid, state: undefined }, 'state_missing'],
    ['an empty state', { ...valid, state: '' }, 'state_missing'],
    ["another login's state", { ...valid, state: 'other' }, 'state_unknown'],
    ['no iss where it is required', { ...valid, iss: undefined }, 'iss_missing'],
    ['another issuer', { ...valid, iss: 'https://evil.example' }, 'iss_mismatch'],
    ['an issuer differing only by a trailing slash', { ...valid, iss: `${issuer}/` }, 'iss_mismatch'],
    ['neither code nor error', { ...valid, code: undefined }, 'code_missing'],
    ['an empty code', { ...valid, code: '' }, 'code_missing'],
    ['an error response', { ...valid, code: undefined, error: 'access_denied' }, 'authorization_error'],
  ])('refuses a response with %s', (_name, response, code) => {
    expect(codeOf(() => validateAuthorizationResponse(response, expected))).toBe(code);
  });

  it('accepts a response without iss where the AS need not send it', () => {
    const withoutIss = { state: valid.state, code: valid.code };
    expect(validateAuthorizationResponse(withoutIss, { ...expected, issRequired: false })).toEqual({
      code: 'the-code',
    });
  });

  it('checks iss before reporting an error response (a mix-up must not show the wrong error)', () => {
    const response = { state: 'the-state', error: 'access_denied', iss: 'https://evil.example' };
    expect(codeOf(() => validateAuthorizationResponse(response, expected))).toBe('iss_mismatch');
  });

  it("keeps the AS's error, its description length-capped", () => {
    const response = {
      state: 'the-state',
      iss: issuer,
      error: 'access_denied',
      error_description: 'x'.repeat(600),
    };
    let caught: unknown;
    try {
      validateAuthorizationResponse(response, expected);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'authorization_error', asError: 'access_denied', status: 400 });
    expect((caught as ParLoginError).asErrorDescription).toHaveLength(512);
  });

  it('turns an expired request_uri into an outcome to push again, not a failure', () => {
    const outcome = validateAuthorizationResponse(
      { state: 'the-state', iss: issuer, error: 'invalid_request_uri' },
      expected,
    );
    expect(outcome).toMatchObject({ requestUriExpired: true, error: { code: 'authorization_error' } });
  });

  it('says when a classic request was refused for want of PAR', () => {
    const response = {
      state: 'the-state',
      iss: issuer,
      error: 'invalid_request',
      error_description: 'Pushed Authorization Request must be used',
    };
    expect(codeOf(() => validateAuthorizationResponse(response, { ...expected, classic: true }))).toBe(
      'par_required',
    );
    expect(codeOf(() => validateAuthorizationResponse(response, expected))).toBe('authorization_error');
  });
});

describe('isStatelessExpiry', () => {
  it('is true only for an expired request_uri reported without state', () => {
    expect(isStatelessExpiry({ error: 'invalid_request_uri' })).toBe(true);
    expect(isStatelessExpiry({ error: 'invalid_request_uri', state: 's' })).toBe(false);
    expect(isStatelessExpiry({ error: 'access_denied' })).toBe(false);
  });
});

describe('authorizationError', () => {
  const response = { error: 'invalid_request_uri', error_description: 'Your account is locked. Call 555' };

  it("keeps the AS's description to show for a response matched to this browser's login", () => {
    const err = authorizationError(response, false, true);
    expect(err).toMatchObject({
      asError: 'invalid_request_uri',
      asErrorDescription: response.error_description,
    });
  });

  it('keeps the description of an unmatched response for the log only (as the cause), capped', () => {
    const err = authorizationError(response, false, false);
    expect(err.asError).toBe('invalid_request_uri');
    expect(err.asErrorDescription).toBeUndefined();
    expect(err.message).not.toContain('555');
    expect((err.cause as Error).message).toContain(JSON.stringify(response.error_description));
    const long = authorizationError({ ...response, error_description: 'x'.repeat(600) }, false, false);
    expect((long.cause as Error).message).toContain(`"${'x'.repeat(512)}"`);
  });

  it('has no cause when the unmatched response has no description', () => {
    expect(authorizationError({ error: 'invalid_request_uri' }, false, false).cause).toBeUndefined();
  });
});
