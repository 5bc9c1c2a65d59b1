/**
 * express-par-login: log users in with OAuth 2.0 Pushed Authorization Requests (RFC 9126) from
 * an Express app acting as a confidential OpenID Connect client. Public exports only.
 *
 * @packageDocumentation
 */
export { parLogin, type ParLoginMiddleware } from './router.js';
export { requireLogin, type RequireLoginOptions } from './guard.js';
export { apiProxy, type ApiProxyMiddleware, type ApiProxyOptions } from './api-proxy.js';
export { configFromEnv, ENV_NAMES } from './env.js';
export { ConfigError, ERROR_CODES, ParLoginError, isParLoginError, type ErrorCode, type ParLoginErrorDetails } from './errors.js';
export type {
  AssertionAudience, ClientAuthMethod, DpopMode, FrontChannelParam, ParLoginLogger, ParLoginOptions, ParPolicy, SecurityProfile,
} from './options.js';
export type { LoginOptions, LoginRequest } from './auth-params.js';
export type { ParCapabilities } from './capabilities.js';
export { createDpopProof, type DpopKey, type DpopProofClaims } from './dpop.js';
export type { RequestAuth } from './auth.js';
export type { IdTokenClaims } from './id-token.js';
export type { ParLoginSessionData, SessionUser } from './session.js';
export type { TokenSet } from './token.js';
export type { SessionInfo } from './me.js';
export type { ResolvedConfig } from './config.js';
export type { LoginTransaction } from './transaction.js';
export { runDoctor, type DoctorOptions, type DoctorReport } from './doctor/run-doctor.js';
export type { CheckResult, CheckStatus } from './doctor/check.js';
export type { SigningKey } from './signing-key.js';
export type { Tracer } from './debug.js';
export type { TlsMaterial } from './mtls.js';
