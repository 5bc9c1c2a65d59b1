/**
 * The cookie jar of the test browser (RFC 6265 §5, the parts browsers agree on): cookies belong to
 * a host, not to a host and port, so the app and the AS on two ports of 127.0.0.1 share one jar.
 * Honours Domain, Path, Max-Age / Expires (deletion included), Secure and SameSite.
 *
 * @module
 */

/** A stored cookie. */
export interface Cookie {
  name: string;
  value: string;
  /** The host it was set by, or the `Domain` attribute's value. */
  domain: string;
  /** Without a `Domain` attribute a cookie goes back to the exact host only. */
  hostOnly: boolean;
  path: string;
  /** Milliseconds since the epoch; `Infinity` for a session cookie. */
  expiresAt: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'strict' | 'lax' | 'none';
}

/** How the request that sends or receives cookies relates to the page that started it. */
export interface CookieContext {
  /** `Sec-Fetch-Site` of the request. */
  site: 'none' | 'same-origin' | 'same-site' | 'cross-site';
  /** GET/HEAD top-level navigation (Lax cookies go along cross-site only on those). */
  safeTopLevel: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a URL is a secure context for cookies: https, or a loopback host as browsers allow. */
export function isTrustworthy(url: URL): boolean {
  return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
}

function domainMatches(host: string, domain: string): boolean {
  return host === domain || (host.endsWith(`.${domain}`) && !/^[\d.]+$|^\[/.test(host));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return (
    requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/')
  );
}

function defaultPath(url: URL): string {
  const slash = url.pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : url.pathname.slice(0, slash);
}

/** A browser cookie jar keyed by host (ports ignored). */
export class CookieJar {
  #cookies: Cookie[] = [];

  /** Every live cookie (for assertions). */
  all(): Cookie[] {
    this.#expire();
    return [...this.#cookies];
  }

  /** Store the `Set-Cookie` headers of a response from `url`. */
  store(url: URL, setCookie: string | string[] | undefined): void {
    for (const header of [setCookie ?? []].flat()) this.#storeOne(url, header);
  }

  /** The `Cookie` header for a request to `url`, or `undefined` when no cookie applies. */
  header(url: URL, context: CookieContext): string | undefined {
    this.#expire();
    const sendable = this.#cookies
      .filter((c) => (c.hostOnly ? url.hostname === c.domain : domainMatches(url.hostname, c.domain)))
      .filter((c) => pathMatches(url.pathname, c.path) && (!c.secure || isTrustworthy(url)))
      .filter(
        (c) =>
          context.site !== 'cross-site' ||
          c.sameSite === 'none' ||
          (c.sameSite === 'lax' && context.safeTopLevel),
      )
      .sort((a, b) => b.path.length - a.path.length);
    return sendable.length === 0 ? undefined : sendable.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  #storeOne(url: URL, header: string): void {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie: Cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      domain: url.hostname,
      hostOnly: true,
      path: defaultPath(url),
      expiresAt: Number.POSITIVE_INFINITY,
      secure: false,
      httpOnly: false,
      sameSite: 'lax',
    };
    let maxAge: number | undefined;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
      else if (key === 'expires' && !Number.isNaN(Date.parse(value))) cookie.expiresAt = Date.parse(value);
      else if (key === 'path' && value.startsWith('/')) cookie.path = value;
      else if (key === 'domain' && value !== '')
        Object.assign(cookie, { domain: value.replace(/^\./, '').toLowerCase(), hostOnly: false });
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'samesite')
        cookie.sameSite =
          (['strict', 'lax', 'none'] as const).find((s) => s === value.toLowerCase()) ?? 'lax';
    }
    if (maxAge !== undefined) cookie.expiresAt = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
    if (!cookie.hostOnly && !domainMatches(url.hostname, cookie.domain)) return; // a foreign Domain is ignored
    if (cookie.secure && !isTrustworthy(url)) return;
    if (cookie.sameSite === 'none' && !cookie.secure) return;
    this.#cookies = this.#cookies.filter(
      (c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path),
    );
    if (cookie.expiresAt > Date.now()) this.#cookies.push(cookie);
  }

  #expire(): void {
    const now = Date.now();
    this.#cookies = this.#cookies.filter((c) => c.expiresAt > now);
  }
}
