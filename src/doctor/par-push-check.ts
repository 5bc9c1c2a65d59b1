/**
 * Doctor check: a throw-away pushed authorization request (RFC 9126 §2), built exactly as
 * `GET /login` builds it (same parameters, same client authentication, same back channel), proves
 * that the AS accepts the client's credentials and its redirect URI — as a signed request object
 * with `OIDC_REQUEST_OBJECT` (RFC 9101), to the mTLS alias with a client certificate (RFC 8705 §5).
 * The `request_uri` it returns is never used and expires by itself.
 *
 * @module
 */
import type { ParLoginContext } from '../context.js';
import { isParLoginError, type ParLoginError } from '../errors.js';
import { authorizationParameters, authorizationRequestForm } from '../client/authorization-request.js';
import { requireEndpoint, type AuthorizationServerMetadata } from '../client/metadata.js';
import { pushAuthorizationRequest } from '../client/par.js';
import { newTransaction } from '../state/transaction.js';
import { failed, passed, skipped, type CheckResult } from './check.js';

const CLIENT_AUTH = 'Client authentication';
const REDIRECT_URI = 'Redirect URI';
const REQUEST = 'Authorization request';

/** How the client authenticated, without its secret: for messages. */
function describeAuthentication(ctx: ParLoginContext): string {
  const { config } = ctx;
  if (config.clientAuthMethod === 'private_key_jwt' && config.signingKey !== undefined) {
    const { alg, kid } = config.signingKey;
    return `private_key_jwt as ${config.clientId} (alg ${alg}, kid ${kid}, aud ${config.assertionAudience})`;
  }
  return `${config.clientAuthMethod} as ${config.clientId}`;
}

function clientAuthFix(ctx: ParLoginContext): string {
  const { config } = ctx;
  if (config.clientAuthMethod === 'client_secret_basic' || config.clientAuthMethod === 'client_secret_post') {
    return (
      `Check that OIDC_CLIENT_ID=${config.clientId} is registered at the AS for ${config.clientAuthMethod} ` +
      'and that OIDC_CLIENT_SECRET is its current secret (copy it again; mind stray spaces or quotes).'
    );
  }
  if (
    config.clientAuthMethod === 'tls_client_auth' ||
    config.clientAuthMethod === 'self_signed_tls_client_auth'
  ) {
    return (
      `Check that OIDC_CLIENT_ID=${config.clientId} is registered for ${config.clientAuthMethod} ` +
      'with the certificate of OIDC_TLS_CLIENT_CERT ' +
      "(its subject DN or SAN for tls_client_auth, its public key in the client's jwks " +
      'for self_signed_tls_client_auth), ' +
      'and that the AS (or a TLS proxy in front of it) asks for client certificates (RFC 8705 §2).'
    );
  }
  return (
    `Check that OIDC_CLIENT_ID=${config.clientId} is registered for private_key_jwt ` +
    `with the public key of OIDC_PRIVATE_KEY (kid ${config.signingKey?.kid ?? '?'}) or a jwks_uri serving it, ` +
    'that the AS accepts the alg, ' +
    'and try OIDC_ASSERTION_AUDIENCE=endpoint if the AS wants the endpoint URL as audience.'
  );
}

/**
 * Whether the AS's refusal is about the redirect URI (oidc-provider says `invalid_redirect_uri`;
 * RFC 6749 servers `invalid_request`).
 */
function isRedirectRefusal(err: ParLoginError): boolean {
  return err.asError === 'invalid_redirect_uri' || /redirect_uri/i.test(err.asErrorDescription ?? '');
}

function asSaid(err: ParLoginError): string {
  return err.asErrorDescription ? `${err.message} The AS said: "${err.asErrorDescription}"` : err.message;
}

/**
 * Push a throw-away authorization request and read the AS's answer as three findings: whether it
 * accepted the client's authentication, the redirect URI, and the rest of the request.
 */
export async function checkParPush(
  ctx: ParLoginContext,
  metadata: AuthorizationServerMetadata | undefined,
): Promise<CheckResult[]> {
  const endpoint = metadata?.pushed_authorization_request_endpoint;
  if (endpoint === undefined)
    return [
      skipped(CLIENT_AUTH, 'no PAR endpoint to push to'),
      skipped(REDIRECT_URI, 'no PAR endpoint to push to'),
    ];
  const { config } = ctx;
  const how = describeAuthentication(ctx);
  try {
    const form = await authorizationRequestForm(
      config,
      authorizationParameters(config, newTransaction('/', 0)),
    );
    const pushed = await pushAuthorizationRequest(
      ctx.http,
      ctx.clientAuth,
      requireEndpoint(metadata!, 'pushed_authorization_request_endpoint', config.useMtls),
      form,
    );
    return [
      passed(
        CLIENT_AUTH,
        `a throw-away PAR push with ${how} was accepted ` +
          `(request_uri received, expires_in ${pushed.expiresIn} s; it is never used)`,
      ),
      passed(REDIRECT_URI, `${config.redirectUri} accepted, with scope "${config.scope}"`),
    ];
  } catch (err) {
    if (!isParLoginError(err) || err.code !== 'par_error') {
      const detail = err instanceof Error ? err.message : String(err);
      return [
        failed(
          CLIENT_AUTH,
          `the PAR push failed: ${detail}`,
          'Check that the AS is up and reachable from this machine; raise OIDC_HTTP_TIMEOUT_MS if it is slow.',
        ),
        skipped(REDIRECT_URI, 'the PAR push failed'),
      ];
    }
    return readRefusal(ctx, how, err);
  }
}

/**
 * Read the AS's `par_error` refusal of the throw-away push as findings: a refused client
 * authentication, else a refused redirect URI, else a refusal of the rest of the request.
 */
function readRefusal(ctx: ParLoginContext, how: string, err: ParLoginError): CheckResult[] {
  const { config } = ctx;
  if (err.asError === 'invalid_client') {
    return [
      failed(
        CLIENT_AUTH,
        `${asSaid(err)} The AS refused the client's credentials (${how}): ` +
          'invalid_client means it could not authenticate this client.',
        clientAuthFix(ctx),
      ),
      skipped(REDIRECT_URI, 'the AS stopped at client authentication'),
    ];
  }
  const authenticated = passed(
    CLIENT_AUTH,
    `the AS went past client authentication (${how}) and refused the request itself`,
  );
  if (isRedirectRefusal(err)) {
    return [
      authenticated,
      failed(
        REDIRECT_URI,
        `${config.redirectUri} refused. ${asSaid(err)}`,
        `Register ${config.redirectUri} (APP_BASE_URL + /callback) as a redirect URI of ${config.clientId} ` +
          'at the AS, or set APP_BASE_URL to the URL that is registered.',
      ),
    ];
  }
  return [
    authenticated,
    skipped(REDIRECT_URI, 'the AS refused the request for another reason first'),
    failed(REQUEST, asSaid(err), requestFix(ctx)),
  ];
}

/** What to check when the AS refused the request itself: the scope and the extra parameters. */
function requestFix(ctx: ParLoginContext): string {
  const { scope, authorizationParams } = ctx.config;
  const names = Object.keys(authorizationParams);
  const params = names.length ? ` and OIDC_AUTH_PARAMS (${names.join(', ')})` : '';
  return `Check OIDC_SCOPE ("${scope}")${params} against what the client may request at the AS.`;
}
