/**
 * A tiny headless browser for integration tests, over undici's `request()`: a cookie jar shared by
 * all ports of a host, navigation headers as browsers send them (`Accept: text/html`,
 * `Sec-Fetch-*`, `Origin` on form posts), manual redirects, forms parsed from the page, and a log
 * of everything it received.
 *
 * @module
 */
import { request } from 'undici';
import { CookieJar, type CookieContext } from './cookie-jar.js';
import { parseFirstForm } from './html-form.js';

/** One request and its response, as the browser saw it. */
export interface Hop {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The `Location` header resolved against `url`, if any. */
  location: string | undefined;
  /** Origin of the page that started this navigation; `undefined` when typed in the address bar. */
  initiator: string | undefined;
  /** The URLs of this navigation so far, this one last (redirects included). */
  chain: string[];
  /** The form body sent, kept so that a 307/308 redirect can repeat it. */
  requestBody: string | undefined;
}

/** Options of {@link Browser.request}. */
export interface BrowserRequestInit {
  /** @default `GET` */
  method?: string;
  /** A form-encoded body (sent as `application/x-www-form-urlencoded`). */
  body?: string;
  /** Extra headers; `null` removes a header the browser would send. */
  headers?: Record<string, string | null>;
  /** Origin of the page that starts the request. @default none (typed in the address bar) */
  initiator?: string;
  /** Earlier URLs of the same navigation (redirects). */
  chain?: string[];
}

/** Options of {@link Browser.follow}. */
export interface FollowOptions {
  /** Most requests to make. @default 20 */
  max?: number;
  /** Stop before requesting a URL for which this returns true (the last hop's `location` is it). */
  stopBefore?: (url: URL) => boolean;
}

/** Options of {@link Browser.login} and {@link Browser.stepUntilCallback}. */
export interface LoginOptions {
  /** Sent as `?returnTo=` to the app's login route. */
  returnTo?: string;
  /** Login name typed at the AS. @default `alice` */
  user?: string;
  /** Password typed at the AS (the demo AS accepts any). @default `any-password` */
  password?: string;
  /** @default `/login` */
  loginPath?: string;
  /** @default `/callback` */
  callbackPath?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ACCEPT_HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function sameSite(a: URL, b: URL): boolean {
  if (a.protocol !== b.protocol) return false;
  if (a.hostname === b.hostname) return true;
  const ip = /^[\d.]+$|^\[/;
  if (ip.test(a.hostname) || ip.test(b.hostname)) return false;
  const site = (host: string): string => host.split('.').slice(-2).join('.');
  return site(a.hostname) === site(b.hostname);
}

/** `Sec-Fetch-Site` of a navigation started by `initiator` that has visited `chain`. */
export function fetchSite(initiator: string | undefined, chain: string[]): CookieContext['site'] {
  if (initiator === undefined) return 'none';
  const origin = new URL(initiator);
  let site: CookieContext['site'] = 'same-origin';
  for (const visited of chain) {
    const url = new URL(visited);
    if (url.origin === origin.origin) continue;
    if (!sameSite(url, origin)) return 'cross-site';
    site = 'same-site';
  }
  return site;
}

/** A browser with its own cookie jar. Create one per simulated user. */
export class Browser {
  /** The cookies (shared by every port of a host, as in real browsers). */
  readonly jar = new CookieJar();
  /** Every response received, in order. */
  readonly seen: Hop[] = [];
  /** Every request made, in order. */
  readonly visited: Array<{ method: string; url: string }> = [];
  readonly #issuer: string | undefined;

  /** @param options.issuer The AS's issuer, so that {@link asUrls} can tell its URLs apart. */
  constructor(options: { issuer?: string } = {}) {
    this.#issuer = options.issuer;
  }

  /** The URLs requested from the AS (needs `issuer` in the constructor). */
  get asUrls(): string[] {
    if (this.#issuer === undefined) throw new Error('new Browser({ issuer }) is needed for asUrls');
    const origin = new URL(this.#issuer).origin;
    return this.visited.filter((v) => new URL(v.url).origin === origin).map((v) => v.url);
  }

  /** Make one request as a browser navigation would; never follows redirects. */
  async request(url: string, init: BrowserRequestInit = {}): Promise<Hop> {
    const method = init.method ?? 'GET';
    const target = new URL(url);
    const chain = [...(init.chain ?? []), target.href];
    const site = fetchSite(init.initiator, chain);
    const headers: Record<string, string> = {
      accept: ACCEPT_HTML,
      'user-agent': 'express-par-login test browser',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      'sec-fetch-site': site,
    };
    const cookie = this.jar.header(target, { site, safeTopLevel: method === 'GET' || method === 'HEAD' });
    if (cookie !== undefined) headers.cookie = cookie;
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (method !== 'GET' && method !== 'HEAD' && init.initiator !== undefined) {
      headers.origin =
        new Set(chain.map((u) => new URL(u).origin)).size > 1 ? 'null' : new URL(init.initiator).origin;
    }
    for (const [name, value] of Object.entries(init.headers ?? {})) {
      if (value === null) delete headers[name.toLowerCase()];
      else headers[name.toLowerCase()] = value;
    }
    this.visited.push({ method, url: target.href });
    const response = await request(target, { method: method as 'GET', headers, body: init.body });
    const body = await response.body.text();
    this.jar.store(target, response.headers['set-cookie']);
    const location =
      typeof response.headers.location === 'string'
        ? new URL(response.headers.location, target).href
        : undefined;
    const hop: Hop = {
      method,
      url: target.href,
      status: response.statusCode,
      headers: response.headers,
      body,
      location,
      initiator: init.initiator,
      chain,
      requestBody: init.body,
    };
    this.seen.push(hop);
    return hop;
  }

  /** GET `url` as if typed in the address bar (no redirect followed). */
  navigate(url: string, init: Omit<BrowserRequestInit, 'method' | 'body'> = {}): Promise<Hop> {
    return this.request(url, init);
  }

  /**
   * Follow redirects: from a URL (typed in the address bar), or onward from a hop's `Location`
   * (keeping its navigation's initiator). Returns every hop made; the last one is not a redirect
   * unless `stopBefore` stopped the walk.
   *
   * @throws {Error} after `max` requests.
   */
  async follow(from: string | Hop, options: FollowOptions = {}): Promise<Hop[]> {
    const hops: Hop[] = [];
    let last = typeof from === 'string' ? undefined : from;
    let next = typeof from === 'string' ? from : redirectTarget(from);
    for (let count = 0; next !== undefined; count += 1) {
      if (options.stopBefore?.(new URL(next))) break;
      if (count === (options.max ?? 20))
        throw new Error(`more than ${options.max ?? 20} redirects, last to ${next}`);
      const repeat = last !== undefined && (last.status === 307 || last.status === 308);
      last = await this.request(next, {
        method: repeat ? last!.method : 'GET',
        body: repeat ? last!.requestBody : undefined,
        initiator: last?.initiator,
        chain: last?.chain ?? [],
      });
      hops.push(last);
      next = redirectTarget(last);
    }
    return hops;
  }

  /**
   * Submit the first `<form>` of a page, with its own fields (hidden inputs and the rest) plus
   * `overrides` (`null` drops a field). Returns the response; pass it to {@link follow} to go on.
   */
  async submitForm(
    html: string,
    pageUrl: string,
    overrides: Record<string, string | null> = {},
  ): Promise<Hop> {
    const form = parseFirstForm(html, pageUrl);
    const fields = new URLSearchParams(form.fields.filter(([name]) => !(name in overrides)));
    for (const [name, value] of Object.entries(overrides)) if (value !== null) fields.set(name, value);
    const initiator = new URL(pageUrl).origin;
    if (form.method === 'GET') {
      const target = new URL(form.action);
      target.search = fields.toString();
      return this.request(target.href, { initiator });
    }
    return this.request(form.action, { method: 'POST', body: fields.toString(), initiator });
  }

  /**
   * Log in through the app: its login route, the AS's login and consent pages, the callback, and
   * on to `returnTo`. Returns every hop; the last is the app's page after login.
   */
  async login(appUrl: string, options: LoginOptions = {}): Promise<Hop[]> {
    return this.#walk(appUrl, options, undefined);
  }

  /**
   * Like {@link login}, but stop right before the browser delivers the AS's redirect to the app's
   * callback, and return that callback URL (with `code`, `state` and `iss`) for a test to replay,
   * tamper with or deliver with `follow` / `navigate`.
   */
  async stepUntilCallback(
    appUrl: string,
    options: LoginOptions = {},
  ): Promise<{ callbackUrl: string; hops: Hop[] }> {
    const app = new URL(appUrl);
    const callbackPath = `${app.pathname.replace(/\/$/, '')}${options.callbackPath ?? '/callback'}`;
    const hops = await this.#walk(
      appUrl,
      options,
      (url) => url.origin === app.origin && url.pathname === callbackPath,
    );
    const callbackUrl = hops.at(-1)?.location;
    if (callbackUrl === undefined || new URL(callbackUrl).pathname !== callbackPath) {
      throw new Error(`the login did not reach ${callbackPath}; last hop: ${describe(hops.at(-1))}`);
    }
    return { callbackUrl, hops };
  }

  async #walk(
    appUrl: string,
    options: LoginOptions,
    stopBefore: FollowOptions['stopBefore'],
  ): Promise<Hop[]> {
    const app = new URL(appUrl);
    const start = new URL(`${app.pathname.replace(/\/$/, '')}${options.loginPath ?? '/login'}`, app);
    if (options.returnTo !== undefined) start.searchParams.set('returnTo', options.returnTo);
    return this.#throughAs(await this.follow(start.href, { stopBefore }), app, options, stopBefore);
  }

  /**
   * Carry on a login from an answer of the app that sends the browser to the AS (a `/login`, or a
   * callback that started a fresh login): sign in and consent at the AS, and follow the redirects
   * through the app's callback. Returns every hop; the last is the app's page after login, or with
   * `stopBefore`, the hop whose redirect it stopped before.
   */
  async continueLogin(
    from: Hop,
    appUrl: string,
    options: LoginOptions = {},
    stopBefore?: FollowOptions['stopBefore'],
  ): Promise<Hop[]> {
    return this.#throughAs(
      [from, ...(await this.follow(from, { stopBefore }))],
      new URL(appUrl),
      options,
      stopBefore,
    );
  }

  async #throughAs(
    hops: Hop[],
    app: URL,
    options: LoginOptions,
    stopBefore: FollowOptions['stopBefore'],
  ): Promise<Hop[]> {
    for (let step = 0; step < 5; step += 1) {
      const page = hops.at(-1);
      if (page === undefined || page.status !== 200 || new URL(page.url).origin === app.origin) break;
      const prompt = parseFirstForm(page.body, page.url).fields.find(([name]) => name === 'prompt')?.[1];
      if (prompt !== 'login' && prompt !== 'consent')
        throw new Error(`unexpected AS page: ${describe(page)}`);
      const overrides: Record<string, string> =
        prompt === 'login'
          ? { login: options.user ?? 'alice', password: options.password ?? 'any-password' }
          : {};
      const posted = await this.submitForm(page.body, page.url, overrides);
      hops.push(posted, ...(await this.follow(posted, { stopBefore })));
    }
    return hops;
  }
}

function redirectTarget(hop: Hop): string | undefined {
  return REDIRECTS.has(hop.status) ? hop.location : undefined;
}

function describe(hop: Hop | undefined): string {
  return hop === undefined
    ? 'none'
    : `${hop.method} ${hop.url} → ${hop.status} ${hop.location ?? hop.body.slice(0, 300)}`;
}
