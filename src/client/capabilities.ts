/**
 * What the AS offers for pushed authorization requests (RFC 9126 §5), and the decision the `par`
 * policy makes from it: push, fall back to a classic authorization request, or refuse.
 *
 * @module
 */
import { ParLoginError } from '../errors.js';
import type { AuthorizationServerMetadata } from './metadata.js';
import type { ParPolicy } from '../config/options.js';

/** The AS's PAR capabilities, from its metadata. */
export interface ParCapabilities {
  /** The AS publishes a `pushed_authorization_request_endpoint`. */
  readonly offersPar: boolean;
  /** The AS sets `require_pushed_authorization_requests` (RFC 9126 §5): it accepts only pushed requests. */
  readonly requiresPar: boolean;
  /** The PAR endpoint, when published. */
  readonly parEndpoint?: string;
}

/** Read the PAR capabilities from the metadata. */
export function parCapabilities(metadata: AuthorizationServerMetadata): ParCapabilities {
  const endpoint = metadata.pushed_authorization_request_endpoint;
  return Object.freeze({
    offersPar: endpoint !== undefined,
    requiresPar: metadata.require_pushed_authorization_requests === true,
    ...(endpoint !== undefined ? { parEndpoint: endpoint } : {}),
  });
}

/**
 * How to send the authorization request under `policy`.
 *
 * @returns `par`, or `classic` (only with `auto`, an AS without a PAR endpoint that does not require
 *   PAR).
 * @throws {ParLoginError} `no_par_endpoint` (`required` policy, no endpoint) or `par_required` (the AS
 *   requires PAR it does not offer).
 */
export function authorizationMode(
  policy: ParPolicy,
  capabilities: ParCapabilities,
  issuer: string,
): 'par' | 'classic' {
  if (capabilities.offersPar) return 'par';
  if (capabilities.requiresPar) {
    throw new ParLoginError(
      'par_required',
      `The authorization server ${issuer} requires pushed authorization requests ` +
        'but publishes no pushed_authorization_request_endpoint.',
      {
        hint: 'The AS metadata is inconsistent: publish its PAR endpoint.',
      },
    );
  }
  if (policy === 'auto') return 'classic';
  throw new ParLoginError(
    'no_par_endpoint',
    `The authorization server ${issuer} does not publish a pushed_authorization_request_endpoint.`,
    {
      hint:
        'Enable PAR at the AS, or set OIDC_PAR=auto to allow classic authorization requests ' +
        'with servers that do not offer it.',
    },
  );
}
