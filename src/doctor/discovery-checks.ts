/**
 * Doctor checks of the authorization server's discovery (OpenID Connect Discovery 1.0 §4,
 * RFC 8414 §3): the issuer answers, its metadata passes the library's own validation
 * ({@link MetadataSource}) and fits this client, and it publishes a PAR endpoint (RFC 9126 §5).
 *
 * @module
 */
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { ParLoginContext } from '../context.js';
import { isParLoginError } from '../errors.js';
import { asObject, type BackChannelResponse } from '../client/http.js';
import { discoveryUrl, type AuthorizationServerMetadata } from '../client/metadata.js';
import { failed, passed, skipped, type CheckResult } from './check.js';

/** One timed request to the discovery URL: what the clock check and the messages need. */
export interface DiscoveryProbe {
  readonly response: BackChannelResponse;
  /** Local clock, epoch ms, just before the request was sent. */
  readonly sentAt: number;
  /** Local clock, epoch ms, when the response was read. */
  readonly receivedAt: number;
}

const REACHABLE = 'Issuer reachable';
const CONSISTENT = 'Discovery consistent';
const PAR_ENDPOINT = 'PAR endpoint';

/** The library only accepts asymmetric ID token signatures (see id-token.ts). */
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$|^ES256K$/;

/**
 * GET the discovery document through the library's back channel, timing it.
 *
 * @param now The local clock (epoch ms).
 */
export async function checkIssuerReachable(
  ctx: ParLoginContext,
  now: () => number,
): Promise<{ result: CheckResult; probe?: DiscoveryProbe }> {
  const url = discoveryUrl(ctx.config.issuer);
  const sentAt = now();
  try {
    const response = await ctx.http.get(url, 'discovery');
    const receivedAt = now();
    const probe = { response, sentAt, receivedAt };
    if (response.status !== 200) {
      return {
        probe,
        result: failed(
          REACHABLE,
          `${url} answered ${response.status}, not 200`,
          'Check OIDC_ISSUER: discovery must be served at ' +
            '{issuer}/.well-known/openid-configuration (mind the path and any tenant segment).',
        ),
      };
    }
    return {
      probe,
      result: passed(REACHABLE, `${url} answered 200 in ${Math.max(0, receivedAt - sentAt)} ms`),
    };
  } catch (err) {
    const reason = isParLoginError(err) ? err.message : String(err);
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    const fix =
      isParLoginError(err) && err.code === 'as_timeout'
        ? 'Check that the AS is up and that this machine reaches it; raise ' +
          `OIDC_HTTP_TIMEOUT_MS (now ${ctx.config.httpTimeoutMs} ms) if it is slow.`
        : 'Check OIDC_ISSUER (host, port, scheme), that the AS is running, ' +
          'and that DNS, proxies and firewalls let this machine reach it.';
    return {
      result: failed(REACHABLE, `${url}: ${reason}${typeof cause === 'string' ? ` (${cause})` : ''}`, fix),
    };
  }
}

/**
 * Validate the metadata with the library's discovery, then check that it fits this client:
 * the code flow, PKCE S256, the client authentication method and its signing algorithm.
 */
export async function checkDiscovery(
  ctx: ParLoginContext,
  probe: DiscoveryProbe,
): Promise<{ results: CheckResult[]; metadata?: AuthorizationServerMetadata }> {
  let metadata: AuthorizationServerMetadata;
  try {
    metadata = await ctx.metadata.get();
  } catch (err) {
    const published = asObject(probe.response.json)?.issuer;
    const fix =
      typeof published === 'string' && published !== ctx.config.issuer
        ? `Set OIDC_ISSUER=${published} (the issuer must match the AS's exactly, trailing slash included).`
        : 'Check OIDC_ISSUER and the AS: the document must be JSON with issuer, ' +
          'authorization_endpoint, token_endpoint and jwks_uri as https URLs.';
    return { results: [failed(CONSISTENT, isParLoginError(err) ? err.message : String(err), fix)] };
  }
  const problems = fitProblems(metadata as unknown as Record<string, unknown>, ctx.config);
  const iss = metadata.authorization_response_iss_parameter_supported ? ', RFC 9207 iss on callbacks' : '';
  const results =
    problems.length === 0
      ? [passed(CONSISTENT, `issuer matches, endpoints valid${iss}`)]
      : problems.map(({ detail, fix }) => failed(CONSISTENT, detail, fix));
  return { results, metadata };
}

function listed(document: Record<string, unknown>, name: string): readonly unknown[] | undefined {
  const value = document[name];
  return Array.isArray(value) ? value : undefined;
}

function fitProblems(
  document: Record<string, unknown>,
  config: ResolvedConfig,
): { detail: string; fix: string }[] {
  const problems: { detail: string; fix: string }[] = [];
  const responseTypes = listed(document, 'response_types_supported');
  if (responseTypes && !responseTypes.includes('code')) {
    problems.push({
      detail: 'response_types_supported does not include "code"',
      fix: 'Enable the authorization code flow at the AS.',
    });
  }
  const pkce = listed(document, 'code_challenge_methods_supported');
  if (pkce && !pkce.includes('S256')) {
    problems.push({
      detail:
        'code_challenge_methods_supported does not include "S256" (this library always sends PKCE S256)',
      fix: 'Enable PKCE with S256 at the AS.',
    });
  }
  const methods = listed(document, 'token_endpoint_auth_methods_supported');
  if (methods && !methods.includes(config.clientAuthMethod)) {
    problems.push({
      detail:
        `token_endpoint_auth_methods_supported (${methods.join(', ')}) ` +
        `does not include ${config.clientAuthMethod}`,
      fix:
        'Set OIDC_CLIENT_AUTH_METHOD to a method the AS supports ' +
        '(client_secret_basic or private_key_jwt) and register the client with it.',
    });
  }
  const algs = listed(document, 'token_endpoint_auth_signing_alg_values_supported');
  if (config.signingKey && algs && !algs.includes(config.signingKey.alg)) {
    problems.push({
      detail:
        'token_endpoint_auth_signing_alg_values_supported ' +
        `(${algs.join(', ')}) does not include ${config.signingKey.alg}`,
      fix: 'Use a key and OIDC_PRIVATE_KEY_ALG the AS accepts for client assertions.',
    });
  }
  const idTokenAlgs = listed(document, 'id_token_signing_alg_values_supported');
  if (idTokenAlgs && !idTokenAlgs.some((alg) => typeof alg === 'string' && ASYMMETRIC.test(alg))) {
    problems.push({
      detail: `id_token_signing_alg_values_supported (${idTokenAlgs.join(', ')}) has no asymmetric algorithm`,
      fix: 'Let the AS sign ID tokens with an asymmetric key (RS256, ES256, …); HMAC-signed ID tokens are refused.',
    });
  }
  return problems;
}

/**
 * The PAR endpoint is published, and whether the AS requires PAR (RFC 9126 §5). Without one, the
 * login fails with `no_par_endpoint` unless `OIDC_PAR=auto` lets it fall back to a classic request
 * (then the check passes with a note, unless the AS says it requires PAR).
 */
export function checkParEndpoint(
  metadata: AuthorizationServerMetadata | undefined,
  par: ResolvedConfig['par'] = 'required',
): CheckResult {
  if (metadata === undefined) return skipped(PAR_ENDPOINT, 'discovery failed');
  const endpoint = metadata.pushed_authorization_request_endpoint;
  if (endpoint === undefined && metadata.require_pushed_authorization_requests === true) {
    return failed(
      PAR_ENDPOINT,
      'the AS sets require_pushed_authorization_requests but publishes no pushed_authorization_request_endpoint',
      'The AS requires Pushed Authorization Requests (RFC 9126) but its metadata is inconsistent: ' +
        'enable and publish its PAR endpoint (logins fail with par_required until then).',
    );
  }
  if (endpoint === undefined && par === 'auto') {
    return passed(
      PAR_ENDPOINT,
      'no pushed_authorization_request_endpoint: with OIDC_PAR=auto ' +
        'logins go through the browser as classic authorization requests',
    );
  }
  if (endpoint === undefined) {
    return failed(
      PAR_ENDPOINT,
      'the metadata has no pushed_authorization_request_endpoint',
      'Enable Pushed Authorization Requests (RFC 9126) at the AS, or set OIDC_PAR=auto ' +
        'to fall back to classic authorization requests at an AS without PAR.',
    );
  }
  if (metadata.require_pushed_authorization_requests === true)
    return passed(PAR_ENDPOINT, `${endpoint} (the AS requires PAR for every client)`);
  return passed(
    PAR_ENDPOINT,
    `${endpoint} (optional at this AS, which also accepts unpushed requests; this app always pushes)`,
  );
}
