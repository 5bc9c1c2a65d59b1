/** Failure records (observability/log.ts): what each carries, one line each, nothing secret. */
import { describe, expect, it } from '@jest/globals';
import { ParLoginError } from '../../src/errors.js';
import { DOCTOR_POINTER, isMisconfiguration, logFailure } from '../../src/observability/log.js';

function recordOf(err: unknown): Record<string, unknown> {
  const records: Array<Record<string, unknown>> = [];
  const logger = {
    warn: (r: Record<string, unknown>) => records.push(r),
    error: (r: Record<string, unknown>) => records.push(r),
  };
  logFailure(logger, err, 'id1', 'GET', '/login');
  expect(records).toHaveLength(1);
  return records[0]!;
}

describe('logFailure', () => {
  it("records the AS's error and description, the hint and the doctor for a refused client", () => {
    const record = recordOf(
      new ParLoginError('par_error', 'The PAR endpoint answered 401 (invalid_client).', {
        asError: 'invalid_client',
        asErrorDescription: 'client authentication failed\r\nforged: line',
        hint: 'check the secret',
      }),
    );
    expect(record).toMatchObject({
      code: 'par_error',
      status: 502,
      as_error: 'invalid_client',
      as_error_description: 'client authentication failed  forged: line',
      hint: 'check the secret',
      doctor: DOCTOR_POINTER,
    });
  });

  it('caps the description at 300 characters', () => {
    const record = recordOf(
      new ParLoginError('token_error', 'refused', {
        asError: 'invalid_grant',
        asErrorDescription: 'x'.repeat(5000),
      }),
    );
    expect(record.as_error_description).toHaveLength(300);
    expect(record.doctor).toBeUndefined(); // invalid_grant: an expired code, not the configuration
  });

  it("records the cause's name, code and message, without a URL's credentials", () => {
    const cause = Object.assign(new Error('connect to redis://user:s3cret@10.0.0.5:6379 refused'), {
      code: 'ECONNREFUSED',
    });
    const record = recordOf(new ParLoginError('session_store_unavailable', 'down', { cause }));
    expect(record.cause).toBe('Error ECONNREFUSED: connect to redis://10.0.0.5:6379 refused');
    expect(JSON.stringify(record)).not.toContain('s3cret');
  });
});

describe('isMisconfiguration', () => {
  it.each([
    ['par_error', 'invalid_client', true],
    ['par_error', 'invalid_request', true],
    ['token_error', 'unauthorized_client', true],
    ['token_error', 'invalid_grant', false],
    ['par_error', undefined, false],
    ['discovery_failed', undefined, true],
    ['iss_mismatch', undefined, true],
    ['state_unknown', undefined, false],
    ['as_timeout', undefined, false],
  ] as const)('takes %s with %s for a misconfiguration: %s', (code, asError, expected) => {
    const err = new ParLoginError(code, 'x', asError === undefined ? {} : { asError });
    expect(isMisconfiguration(err)).toBe(expected);
  });
});
