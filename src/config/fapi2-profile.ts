/**
 * The FAPI 2.0 Security Profile (final, 2025) for this client: the defaults it implies and the
 * checks that refuse a configuration breaking it. Every violation is listed at once, naming the
 * option that breaks the profile.
 *
 * Client rules applied (FAPI 2.0 Security Profile §5.3.2 and §5.4):
 * - PAR only (§5.3.2.2): `par` must stay `required`.
 * - PKCE S256 (§5.3.2.2): always used by this middleware.
 * - Client authentication with `private_key_jwt` or mTLS only (§5.3.2.1).
 * - JWS algorithms PS256, ES256 or EdDSA only (§5.4.1), for client assertions, request objects,
 *   DPoP proofs and ID tokens.
 * - The client assertion's audience is the issuer (§5.3.2.1, RFC 7523bis).
 * - `iss` in every authorization response (RFC 9207, §5.3.2.2).
 * - Sender-constrained access tokens: DPoP or mTLS-bound (§5.3.2.1).
 * - Short lifetimes: a `request_uri` living at most 600 s (§5.3.2.2), a login grace of at most 300 s.
 *
 * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
 * @module
 */
import type { AssertionAudience, ClientAuthMethod, DpopMode, ParPolicy, SecurityProfile } from './options.js';
import type { Problem } from './option-checks.js';

/** JWS algorithms FAPI 2.0 allows (§5.4.1). */
export const FAPI2_ALGORITHMS = Object.freeze(['PS256', 'ES256', 'EdDSA', 'Ed25519']);
/** Client authentication methods FAPI 2.0 allows (§5.3.2.1). */
export const FAPI2_AUTH_METHODS: readonly ClientAuthMethod[] = Object.freeze([
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
]);
/** Longest `request_uri` lifetime accepted under FAPI 2.0, in seconds. */
export const FAPI2_MAX_REQUEST_URI_LIFETIME = 600;
/** Longest `loginGraceSeconds` under FAPI 2.0, in seconds. */
export const FAPI2_MAX_LOGIN_GRACE = 300;

/** The settings a profile constrains, as the configuration resolved them. */
export interface ProfileSubject {
  /** The PAR policy: FAPI 2.0 §5.3.2.2 requires PAR. */
  readonly par: ParPolicy;
  /** The client authentication: FAPI 2.0 §5.3.2.1 allows `private_key_jwt` and mTLS only. */
  readonly clientAuthMethod: ClientAuthMethod;
  /** The assertion audience: FAPI 2.0 §5.3.2.1 wants the issuer. */
  readonly assertionAudience: AssertionAudience;
  /** The DPoP mode: with mTLS-bound tokens absent, FAPI 2.0 §5.3.2.1 needs DPoP for sender-constrained tokens. */
  readonly dpop: DpopMode;
  /** The client's signing key algorithm, when it has a key. */
  readonly signingAlg?: string;
  /** Whether a client certificate is configured (mTLS-bound tokens). */
  readonly hasClientCertificate: boolean;
  /** Seconds a login may take beyond the `request_uri` lifetime. */
  readonly loginGraceSeconds: number;
}

/**
 * The defaults a profile implies for options left unset: under `fapi2`, DPoP per session unless a
 * client certificate binds the tokens.
 */
export function profileDefaults(profile: SecurityProfile, hasClientCertificate: boolean): { dpop: DpopMode } {
  return { dpop: profile === 'fapi2' && !hasClientCertificate ? 'session' : 'off' };
}

/** Report every way `subject` breaks `profile`. */
export function checkProfile(profile: SecurityProfile, subject: ProfileSubject, problem: Problem): void {
  if (profile !== 'fapi2') return;
  const breaks = (option: string, text: string): void =>
    problem(option, `${text} (profile fapi2: FAPI 2.0 Security Profile)`);
  if (subject.par !== 'required')
    breaks('par', 'must be "required": FAPI 2.0 allows only pushed authorization requests');
  if (!FAPI2_AUTH_METHODS.includes(subject.clientAuthMethod)) {
    breaks(
      'clientAuthMethod',
      `is ${subject.clientAuthMethod}, but only ${FAPI2_AUTH_METHODS.join(', ')} are allowed`,
    );
  }
  if (subject.signingAlg !== undefined && !FAPI2_ALGORITHMS.includes(subject.signingAlg)) {
    breaks('privateKeyAlg', `is ${subject.signingAlg}, but only PS256, ES256 and EdDSA are allowed`);
  }
  if (subject.assertionAudience !== 'issuer') breaks('assertionAudience', 'must be "issuer"');
  if (subject.dpop === 'off' && !subject.hasClientCertificate) {
    breaks(
      'dpop',
      'is off and no client certificate is configured: access tokens must be sender-constrained (DPoP or mTLS)',
    );
  }
  if (subject.loginGraceSeconds > FAPI2_MAX_LOGIN_GRACE)
    breaks('loginGraceSeconds', `must be at most ${FAPI2_MAX_LOGIN_GRACE} seconds`);
}
