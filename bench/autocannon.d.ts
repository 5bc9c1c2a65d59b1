/**
 * The part of autocannon 8's programmatic API the benchmarks use (the package ships no types).
 *
 * @module
 */
declare module 'autocannon' {
  /** The raw request autocannon is about to send; `setupRequest` may change it. */
  export interface RawRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }

  /** One entry of `requests`: the sequence each connection repeats. */
  export interface RequestStep extends RawRequest {
    setupRequest?(request: RawRequest, context: Record<string, unknown>): RawRequest | null;
    onResponse?(
      status: number,
      body: string,
      context: Record<string, unknown>,
      headers: Record<string, string>,
    ): void;
  }

  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    pipelining?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: RequestStep[];
  }

  export interface Histogram {
    average: number;
    mean: number;
    total: number;
    p50: number;
    p99: number;
  }

  export interface Result {
    requests: Histogram;
    latency: Histogram;
    /** Seconds. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }

  export interface Instance extends PromiseLike<Result> {
    stop(): void;
  }

  function autocannon(options: Options): Instance & Promise<Result>;
  export default autocannon;
}
