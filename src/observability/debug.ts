/**
 * Debug tracing: every step of a login, refresh and logout as one line, switched on with
 * `DEBUG=express-par-login*` (the `debug` package's convention) or `NODE_DEBUG=express-par-login`
 * (Node's), or the `debug` option. Off by default, and then free: no record is built.
 *
 * Lines carry a `flow` id that ties a login's steps together across `/login` and `/callback` (a
 * digest of its `state`, which itself is never written) and a per-request `req` id. Values of
 * secret-bearing fields are redacted whatever a caller passes.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { randomBuffer } from '../crypto/random.js';

/** Where trace records go when tracing is a function. */
export type DebugSink = (record: Record<string, unknown>) => void;

/** The tracer of one instance. */
export interface Tracer {
  readonly enabled: boolean;
  /** Record one step. `fields` must not hold secrets; known secret names are redacted anyway. */
  step(step: string, fields?: Record<string, unknown>): void;
}

/** The debug namespace: `DEBUG=express-par-login*` turns tracing on. */
export const NAMESPACE = 'express-par-login';
const SECRET_FIELD =
  /token|secret|code|verifier|nonce|state|assertion|password|cookie|authorization|session_?id|key/i;
const SAFE_FIELDS = new Set([
  'flow',
  'req',
  'step',
  'msg',
  'status',
  'expires_in',
  'token_type',
  'has_refresh_token',
  'has_id_token',
  'error',
  'return_to',
  'sessions',
  'grant',
]);

/**
 * Whether a `DEBUG` list (comma or space separated, `*` wildcards, `-` exclusions) or a `NODE_DEBUG`
 * list (comma separated, `*` wildcards) names this package.
 */
export function namespaceEnabled(debugVar: string | undefined, nodeDebugVar: string | undefined): boolean {
  const names = [NAMESPACE, `${NAMESPACE}:login`];
  const matches = (pattern: string): boolean => {
    const regexp = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
    return names.some((name) => regexp.test(name));
  };
  const list = (value: string | undefined): string[] => (value ?? '').split(/[\s,]+/).filter(Boolean);
  const debug = list(debugVar);
  if (debug.some((p) => p.startsWith('-') && matches(p.slice(1)))) return false;
  return debug.some((p) => !p.startsWith('-') && matches(p)) || list(nodeDebugVar).some(matches);
}

/** A `flow` id for the login of `state`: stable across /login and /callback, reveals nothing of it. */
export function flowId(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 10);
}

/** A random per-request id. */
export function requestId(): string {
  return randomBuffer(4).toString('hex');
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [
      name,
      SAFE_FIELDS.has(name) || !SECRET_FIELD.test(name) ? value : '[redacted]',
    ]),
  );
}

const OFF: Tracer = Object.freeze({ enabled: false, step: () => {} });

/**
 * Build a tracer: `true` writes one line per step to stderr (`express-par-login <step> {json}`), a
 * function receives each record, `false`/`undefined` traces nothing.
 */
export function createTracer(option: boolean | DebugSink | undefined): Tracer {
  if (option === undefined || option === false) return OFF;
  const sink: DebugSink =
    typeof option === 'function'
      ? option
      : (record) =>
          void process.stderr.write(`${NAMESPACE} ${String(record.step)} ${JSON.stringify(record)}\n`);
  return {
    enabled: true,
    step(step, fields = {}) {
      try {
        sink({ step, ...redact(fields) });
      } catch {
        // tracing must never break a request
      }
    },
  };
}
