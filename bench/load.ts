/**
 * One autocannon run against one target, with the CPU its servers spent meanwhile. Requests/s
 * count only responses with the expected status; anything else is reported, never counted.
 *
 * @module
 */
import autocannon, { type RequestStep } from 'autocannon';
import type { Child } from './children.js';

/** What to load. */
export interface LoadTarget {
  /** Shown in tables. */
  label: string;
  url: string;
  /** The status a working server answers with (e.g. 303 for a login start). */
  expectStatus: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request setup (a fresh client assertion per request, …). */
  setupRequest?: RequestStep['setupRequest'];
  /** Children whose CPU time is measured during the run, by name. */
  cpuOf?: Child[];
}

/** Options of one run. */
export interface LoadOptions {
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  /** Stop after this many requests instead of after `duration`. */
  amount?: number;
}

/** The outcome of one run. */
export interface LoadResult {
  /** Responses with the expected status per second. */
  rps: number;
  ok: number;
  /** Responses with any other status, by status. */
  unexpected: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
  /** CPU microseconds (user + system) per expected response, by child name. */
  cpuPerRequest: Record<string, number>;
}

/** Run autocannon once against `target`. */
export async function load(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = await Promise.all((target.cpuOf ?? []).map((child) => child.call('cpu')));
  const step: RequestStep = {
    method: target.method ?? 'GET',
    ...(target.headers ? { headers: target.headers } : {}),
    ...(target.body !== undefined ? { body: target.body } : {}),
    ...(target.setupRequest ? { setupRequest: target.setupRequest } : {}),
  };
  const result = await autocannon({
    url: target.url,
    connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration }),
    timeout: 10,
    requests: [step],
  });
  const cpuAfter = await Promise.all((target.cpuOf ?? []).map((child) => child.call('cpu')));

  const ok = result.statusCodeStats[String(target.expectStatus)]?.count ?? 0;
  const unexpected: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
    if (status !== String(target.expectStatus)) unexpected[status] = count;
  }
  const cpuPerRequest: Record<string, number> = {};
  (target.cpuOf ?? []).forEach((child, i) => {
    const used = cpuAfter[i]!.user + cpuAfter[i]!.system - cpuBefore[i]!.user - cpuBefore[i]!.system;
    cpuPerRequest[child.name] = ok === 0 ? Number.NaN : used / ok;
  });
  return {
    rps: ok / result.duration,
    ok,
    unexpected,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    cpuPerRequest,
  };
}

/** A one-line description of what went wrong in a run, or `undefined` when nothing did. */
export function loadProblems(target: LoadTarget, result: LoadResult): string | undefined {
  const parts: string[] = [];
  if (result.ok === 0) parts.push(`no ${target.expectStatus} response`);
  for (const [status, count] of Object.entries(result.unexpected)) parts.push(`${count}× ${status}`);
  if (result.errors > 0) parts.push(`${result.errors} errors/timeouts`);
  return parts.length === 0 ? undefined : `${target.label}: ${parts.join(', ')}`;
}
