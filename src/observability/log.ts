/**
 * Failure records: one structured line per failure, with the code and a correlation id.
 * Records are built from a fixed set of fields, so secrets, codes, tokens and verifiers cannot
 * reach a log by accident.
 *
 * @module
 */
import { randomBuffer } from '../crypto/random.js';
import { isParLoginError, type ParLoginError } from '../errors.js';

/**
 * A structured logger (the `logger` option of `parLogin()` and `apiProxy()`). Each call receives one
 * record; it must never throw.
 */
export interface ParLoginLogger {
  /** Failures caused by the browser (4xx). */
  warn(record: Record<string, unknown>): void;
  /** Failures caused by the AS, the store or the configuration (5xx). */
  error(record: Record<string, unknown>): void;
}

/** The default logger: one JSON line on stderr per record. */
export const defaultLogger: ParLoginLogger = Object.freeze({
  warn: (record: Record<string, unknown>) =>
    void process.stderr.write(`${JSON.stringify({ level: 'warn', ...record })}\n`),
  error: (record: Record<string, unknown>) =>
    void process.stderr.write(`${JSON.stringify({ level: 'error', ...record })}\n`),
});

/** A short random id that ties the error page to its log line. */
export function correlationId(): string {
  return randomBuffer(6).toString('hex');
}

/** The longest AS `error_description` and cause message a record carries. */
const MAX_LOGGED_TEXT = 300;

/** What a record says for failures the doctor can explain. */
export const DOCTOR_POINTER =
  'Run `npx express-par-login doctor` on this host: it checks the configuration against the AS ' +
  'and says what to change.';

/** AS error codes that mean the client's registration or configuration is wrong (RFC 6749 §5.2, RFC 9126 §2.3). */
const CONFIGURATION_AS_ERRORS = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_request',
  'invalid_request_object',
  'invalid_scope',
  'invalid_redirect_uri',
  'unsupported_response_type',
]);

/** Codes that always come from the configuration or the AS's set-up. */
const CONFIGURATION_CODES = new Set(['discovery_failed', 'no_par_endpoint', 'par_required', 'iss_mismatch']);

/**
 * Whether a failure comes from the configuration (of the app or of its registration at the AS)
 * rather than from the user or a passing outage: trying again will not help, an operator must act.
 */
export function isMisconfiguration(err: ParLoginError): boolean {
  if (CONFIGURATION_CODES.has(err.code)) return true;
  const refused =
    err.code === 'par_error' || err.code === 'token_error' || err.code === 'authorization_error';
  return refused && err.asError !== undefined && CONFIGURATION_AS_ERRORS.has(err.asError);
}

/** `text` capped, with control characters (line breaks included) replaced, so that one record stays one line. */
function loggable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  return text.slice(0, MAX_LOGGED_TEXT).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * The cause's name, code and message, with any credentials of a URL in it removed, capped to one
 * line: what a record says of a failure's cause.
 */
export function causeOf(cause: unknown): string | undefined {
  if (cause === null || typeof cause !== 'object') return undefined;
  const { name, code, message } = cause as { name?: unknown; code?: unknown; message?: unknown };
  const parts = [typeof name === 'string' ? name : 'Error'];
  if (typeof code === 'string' || typeof code === 'number') parts.push(String(code));
  const text = typeof message === 'string' ? message.replace(/\/\/[^/@\s]*@/g, '//') : '';
  return loggable(`${parts.join(' ')}${text === '' ? '' : `: ${text}`}`);
}

/**
 * What a record says about a failure: the error's code, status, message and hint, the AS's `error`
 * and `error_description` (capped, one line), the cause (name, code, message), and a pointer to the
 * doctor for failures of the configuration.
 */
export function failureFields(err: unknown): Record<string, unknown> {
  if (!isParLoginError(err)) {
    return {
      code: 'internal',
      status: 500,
      error: err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown',
    };
  }
  const fields: Record<string, unknown> = { code: err.code, status: err.status, error: err.message };
  if (err.asError !== undefined) fields.as_error = loggable(err.asError);
  if (err.asErrorDescription !== undefined) fields.as_error_description = loggable(err.asErrorDescription);
  if (err.hint !== undefined) fields.hint = err.hint;
  const cause = causeOf(err.cause);
  if (cause !== undefined) fields.cause = cause;
  if (isMisconfiguration(err)) fields.doctor = DOCTOR_POINTER;
  return fields;
}

/**
 * Log a request failure ({@link failureFields}, with the request's method and path). 4xx go to
 * `warn`, everything else to `error`.
 */
export function logFailure(
  logger: ParLoginLogger,
  err: unknown,
  id: string,
  method: string,
  path: string,
): void {
  const fields = failureFields(err);
  const record = { msg: 'express-par-login request failed', id, method, path, ...fields };
  emit(logger, (fields.status as number) < 500 ? 'warn' : 'error', record);
}

/**
 * Log, as a warning under its own `code`, a failure the middleware worked around (the request went
 * on): the failure's fields ({@link failureFields}), its own code as `cause_code`.
 */
export function logWorkedAround(
  logger: ParLoginLogger,
  err: unknown,
  record: { msg: string; code: string; method?: string; path?: string },
): void {
  const fields = failureFields(err);
  emit(logger, 'warn', { ...record, ...fields, code: record.code, cause_code: fields.code });
}

/** Hand `record` to the app's logger at `level`: a logger that throws never takes the request down. */
export function emit(logger: ParLoginLogger, level: 'warn' | 'error', record: Record<string, unknown>): void {
  try {
    logger[level](record);
  } catch {
    // A logger must never take the request down with it.
  }
}
