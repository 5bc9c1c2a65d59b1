/**
 * Discovery of the AS's metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3), per instance:
 * cached after success, single-flight while in progress, retried on the next request after a failure.
 *
 * @module
 */
import { isHttpsOrLoopback, isLoopback } from '../config/loopback.js';
import { ParLoginError } from '../errors.js';
import { asObject, type BackChannel } from './http.js';

/** The AS metadata the middleware uses. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
  /** RFC 9126 §5. */
  readonly pushed_authorization_request_endpoint?: string;
  /** RFC 9126 §5. */
  readonly require_pushed_authorization_requests?: boolean;
  /** RFC 9207 §3. */
  readonly authorization_response_iss_parameter_supported?: boolean;
  /** OIDC RP-Initiated Logout 1.0 §2.1. */
  readonly end_session_endpoint?: string;
  readonly userinfo_endpoint?: string;
  readonly id_token_signing_alg_values_supported?: readonly string[];
  /** RFC 8705 §5: endpoints to use with a client certificate. */
  readonly mtls_endpoint_aliases?: Readonly<Partial<Record<AliasedEndpoint, string>>>;
  /** RFC 9449 §5.1. */
  readonly dpop_signing_alg_values_supported?: readonly string[];
  /** RFC 9396 §10. */
  readonly authorization_details_types_supported?: readonly string[];
}

/** A cached, single-flight metadata source. */
export interface MetadataSource {
  /** The metadata, discovered on first use. */
  get(): Promise<AuthorizationServerMetadata>;
}

const REQUIRED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;
const OPTIONAL_ENDPOINTS = [
  'pushed_authorization_request_endpoint',
  'end_session_endpoint',
  'userinfo_endpoint',
] as const;

/** The discovery document's URL for an issuer (OIDC Discovery §4.1). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/**
 * Create the metadata source of one instance.
 *
 * @param issuer The configured issuer; the document's `issuer` must equal it exactly (§4.3).
 * @param http The instance's back channel.
 */
export function createMetadataSource(issuer: string, http: BackChannel): MetadataSource {
  let cached: AuthorizationServerMetadata | undefined;
  let inFlight: Promise<AuthorizationServerMetadata> | undefined;

  async function discover(): Promise<AuthorizationServerMetadata> {
    const response = await http.get(discoveryUrl(issuer), 'discovery');
    const document = asObject(response.json);
    if (response.status !== 200 || document === undefined) {
      throw new ParLoginError(
        'discovery_failed',
        `Discovery at ${discoveryUrl(issuer)} answered ${response.status}${document ? '' : ' without a JSON object'}.`,
      );
    }
    return validateMetadata(document, issuer);
  }

  return {
    get() {
      if (cached) return Promise.resolve(cached);
      inFlight ??= discover().then(
        (metadata) => {
          cached = metadata;
          inFlight = undefined;
          return metadata;
        },
        (err: unknown) => {
          inFlight = undefined;
          throw err;
        },
      );
      return inFlight;
    },
  };
}

/**
 * Check a discovery document: the issuer matches and every endpoint used is an absolute https URL;
 * plain http is accepted only on loopback hosts, and only when the issuer itself is a loopback one
 * (a remote https issuer naming `http://127.0.0.1/…` would send codes and secrets in clear text to
 * whatever listens on the app's own host).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1
 * @throws {ParLoginError} `discovery_failed`
 */
export function validateMetadata(
  document: Record<string, unknown>,
  issuer: string,
): AuthorizationServerMetadata {
  if (document.issuer !== issuer) {
    throw new ParLoginError(
      'discovery_failed',
      `Discovery returned issuer "${String(document.issuer)}", not the configured "${issuer}".`,
      {
        hint:
          'OIDC_ISSUER must be exactly the issuer the AS publishes: scheme, host, port, path and trailing ' +
          'slash (OIDC Discovery §4.3). Copy it from the "issuer" of its discovery document.',
      },
    );
  }
  const check = endpointCheck(issuer);
  for (const name of REQUIRED_ENDPOINTS) check(name, document[name], 'no valid');
  for (const name of OPTIONAL_ENDPOINTS)
    if (document[name] !== undefined) check(name, document[name], 'an invalid');
  const aliases = document.mtls_endpoint_aliases;
  if (aliases !== undefined) {
    const object = asObject(aliases);
    if (object === undefined)
      throw new ParLoginError('discovery_failed', 'Discovery has an invalid mtls_endpoint_aliases.');
    for (const name of MTLS_ALIASED_ENDPOINTS)
      if (object[name] !== undefined) check(`mtls_endpoint_aliases.${name}`, object[name], 'an invalid');
  }
  return Object.freeze({ ...document }) as unknown as AuthorizationServerMetadata;
}

/**
 * The endpoint check for `issuer`'s metadata: an absolute URL without fragment, https, or plain http
 * on a loopback host for a loopback issuer only. It throws naming the endpoint; a plain-http one on
 * loopback is shown by its origin (scheme, host and port only: never the AS's path or query text).
 */
function endpointCheck(
  issuer: string,
): (name: string, value: unknown, fault: 'no valid' | 'an invalid') => void {
  const loopbackIssuer = isLoopback(new URL(issuer));
  return (name, value, fault) => {
    const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
    if (url !== undefined && !url.hash && url.protocol === 'https:') return;
    if (url !== undefined && !url.hash && isHttpsOrLoopback(url)) {
      if (loopbackIssuer) return;
      throw new ParLoginError(
        'discovery_failed',
        `Discovery's ${name} is plain http on ${url.origin}: accepted only when the issuer is on a ` +
          `loopback host too, and ${issuer} is not.`,
      );
    }
    throw new ParLoginError('discovery_failed', `Discovery has ${fault} ${name}.`);
  };
}

/**
 * The endpoints an AS may publish again under `mtls_endpoint_aliases`, for clients that present a
 * certificate (RFC 8705 §5).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-5
 */
export const MTLS_ALIASED_ENDPOINTS = Object.freeze([
  'token_endpoint',
  'pushed_authorization_request_endpoint',
  'userinfo_endpoint',
] as const);

/** An endpoint that may have an mTLS alias. */
export type AliasedEndpoint = (typeof MTLS_ALIASED_ENDPOINTS)[number];

/**
 * Which URL to call for an endpoint: its `mtls_endpoint_aliases` entry when the client presents a
 * certificate and the AS publishes one, else the plain endpoint. The one place that decides it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-5
 */
export function endpointFor(
  metadata: AuthorizationServerMetadata,
  name: 'token_endpoint',
  useMtls: boolean,
): string;
export function endpointFor(
  metadata: AuthorizationServerMetadata,
  name: AliasedEndpoint,
  useMtls: boolean,
): string | undefined;
export function endpointFor(
  metadata: AuthorizationServerMetadata,
  name: AliasedEndpoint,
  useMtls: boolean,
): string | undefined {
  return (useMtls ? metadata.mtls_endpoint_aliases?.[name] : undefined) ?? metadata[name];
}

/**
 * {@link endpointFor} for an endpoint the caller cannot do without.
 *
 * @throws {ParLoginError} `discovery_failed` when the AS publishes no such endpoint.
 */
export function requireEndpoint(
  metadata: AuthorizationServerMetadata,
  name: AliasedEndpoint,
  useMtls: boolean,
): string {
  const url = endpointFor(metadata, name, useMtls);
  if (url === undefined) throw new ParLoginError('discovery_failed', `Discovery has no ${name}.`);
  return url;
}
