/**
 * express-par-login: log users in with OAuth 2.0 Pushed Authorization Requests (RFC 9126) from
 * an Express app acting as a confidential OpenID Connect client. Public exports only.
 *
 * @packageDocumentation
 */
export { parLogin, type ParLoginMiddleware } from './par-login.js';
export { requireLogin, type RequireLoginOptions } from './app/guard.js';
export { apiProxy, type ApiProxyMiddleware, type ApiProxyOptions } from './app/api-proxy.js';
export { configFromEnv, ENV_NAMES } from './config/env.js';
export {
  ConfigError,
  ERROR_CODES,
  ParLoginError,
  isParLoginError,
  type ErrorCode,
  type ParLoginErrorDetails,
} from './errors.js';
export type {
  AfterCallback,
  AssertionAudience,
  CallbackTokens,
  ClientAuthMethod,
  DpopMode,
  FrontChannelParam,
  ParLoginLogger,
  ParLoginOptions,
  ParPolicy,
  SecurityProfile,
} from './config/options.js';
export type { LoginOptions, LoginRequest } from './client/login-options.js';
export type { ParCapabilities } from './client/capabilities.js';
export { createDpopProof, type DpopKey, type DpopProofClaims } from './client/dpop.js';
export type { RequestAuth } from './app/request-auth.js';
export type { IdTokenClaims } from './client/id-token.js';
export type {
  AddressClaim,
  CustomClaims,
  ProtocolClaims,
  StandardClaims,
  UserClaims,
} from './config/claims.js';
export type { ParLoginSessionData, SessionUser } from './session/session.js';
export type { TokenSet } from './client/token.js';
export type { SessionInfo } from './routes/me.js';
export type { ResolvedConfig } from './config/resolve-config.js';
export type { LoginTransaction } from './state/transaction.js';
export { runDoctor, type DoctorOptions, type DoctorReport } from './doctor/run-doctor.js';
export type { CheckResult, CheckStatus } from './doctor/check.js';
export type { SigningKey } from './crypto/signing-key.js';
export type { Tracer } from './observability/debug.js';
export type { TlsMaterial } from './config/tls-material.js';
