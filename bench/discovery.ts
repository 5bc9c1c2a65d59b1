/**
 * The AS endpoints the references call directly, from its discovery document.
 *
 * @module
 */
import { request } from 'undici';
import type { AsEndpoints } from './walks.js';

/** Read `issuer`'s discovery document. */
export async function discoverEndpoints(issuer: string): Promise<AsEndpoints> {
  const response = await request(`${issuer}/.well-known/openid-configuration`);
  const document = (await response.body.json()) as Record<string, string>;
  const {
    pushed_authorization_request_endpoint: par,
    authorization_endpoint: authorization,
    token_endpoint: token,
  } = document;
  if (par === undefined || authorization === undefined || token === undefined)
    throw new Error(`discovery of ${issuer} lacks an endpoint`);
  return { issuer, par, authorization, token };
}
