/**
 * Same-origin proof for requests that change state (logout, the API proxy): `Sec-Fetch-Site`
 * where browsers send it, else `Origin`.
 *
 * @see https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header
 * @see https://www.rfc-editor.org/rfc/rfc6454#section-7 (the Origin header)
 * @module
 */
import type { Request } from 'express';

/**
 * Whether a state-changing request provably comes from the app's own pages: `Sec-Fetch-Site:
 * same-origin` where browsers send it, else an `Origin` equal to the app's origin. Requests with
 * neither are refused.
 */
export function isSameOrigin(req: Request, appOrigin: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  return req.headers.origin === appOrigin;
}
