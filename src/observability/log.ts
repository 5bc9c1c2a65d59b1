/**
 * Failure records: one structured line per failure, with the code and a correlation id.
 * Records are built from a fixed set of fields, so secrets, codes, tokens and verifiers cannot
 * reach a log by accident.
 *
 * @module
 */
import { randomBuffer } from '../crypto/random.js';
import { isParLoginError } from '../errors.js';

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

/**
 * Log a request failure. 4xx go to `warn`, everything else to `error`. Only the error's code,
 * status, message, the AS's error code and the request's method and path are recorded.
 */
export function logFailure(
  logger: ParLoginLogger,
  err: unknown,
  id: string,
  method: string,
  path: string,
): void {
  const record: Record<string, unknown> = { msg: 'express-par-login request failed', id, method, path };
  if (isParLoginError(err)) {
    Object.assign(record, { code: err.code, status: err.status, error: err.message });
    if (err.asError !== undefined) record.as_error = err.asError;
    const cause = err.cause instanceof Error ? err.cause : undefined;
    if (cause) record.cause = `${cause.name}${'code' in cause ? ` ${String(cause.code)}` : ''}`;
  } else {
    Object.assign(record, {
      code: 'internal',
      status: 500,
      error: err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown',
    });
  }
  emit(logger, (record.status as number) < 500 ? 'warn' : 'error', record);
}

/** Hand `record` to the app's logger at `level`: a logger that throws never takes the request down. */
export function emit(logger: ParLoginLogger, level: 'warn' | 'error', record: Record<string, unknown>): void {
  try {
    logger[level](record);
  } catch {
    // A logger must never take the request down with it.
  }
}
