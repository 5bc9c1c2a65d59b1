/**
 * Loopback hosts: the only hosts where plain http is accepted, for the app's base URL, the issuer
 * and the AS's endpoints, so that development on one machine works without certificates.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-8.3 (loopback interface redirection)
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1 (https everywhere else)
 * @module
 */

/** Host names (as `URL.hostname` spells them) of the loopback interface. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether `url` is on a loopback host, whatever its scheme. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** Whether `url` is https, or http on a loopback host. */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}
