/**
 * The per-instance context: everything built once when `parLogin()` is called and shared by its
 * routes (configuration, back channel, discovery cache, client authentication, JWKS cache).
 * Nothing here is module-global: two instances never share a cache or a pool.
 *
 * @module
 */
import { createClientAuthentication, type ClientAuthentication } from './client/client-auth.js';
import type { ResolvedConfig } from './config/resolve-config.js';
import { createBackChannel, type BackChannel } from './client/http.js';
import { createJwksResolver, type KeyResolver } from './client/jwks.js';
import { createMetadataSource, type MetadataSource } from './client/metadata.js';
import { createSealer, type Sealer } from './crypto/seal.js';
import { createSessionIndex, type SessionIndex } from './state/session-index.js';
import { memorySharedState, redisSharedState, type SharedState } from './state/shared-state.js';
import { createTokenVault, type TokenVault } from './state/token-vault.js';
import { createDpopKeys, type DpopKeys } from './state/dpop-keys.js';
import { createLoginRate, type LoginRate } from './state/login-rate.js';
import type { Request } from 'express';
import { systemClock, type Clock } from './clock.js';
import type { RedisHandle } from './state/redis.js';
import type { SessionStarter } from './session/session.js';

/**
 * What one request carries from the middleware to the routes, kept by the instance (in a WeakMap,
 * so it goes with the request) rather than on `req`.
 */
export interface RequestState {
  /** `parLogin()` ran its own session middleware for this request (logout clears that cookie). */
  ownSession?: boolean;
  /** How to start a session for a browser that presented no session cookie (session/own-session.ts). */
  startSession?: SessionStarter;
}

/** One instance's shared machinery. */
export interface ParLoginContext {
  readonly config: ResolvedConfig;
  /** The instance's one clock (clock.ts). */
  readonly clock: Clock;
  readonly http: BackChannel;
  readonly metadata: MetadataSource;
  readonly clientAuth: ClientAuthentication;
  readonly jwks: KeyResolver;
  /** Encrypts token material before it reaches the shared state. */
  readonly sealer: Sealer;
  /** Which DPoP key a login's tokens are bound to (RFC 9449): the one home of that decision. */
  readonly dpopKeys: DpopKeys;
  /** Tokens, locks, the logout index and used logout tokens: in Redis when sessions are. */
  readonly shared: SharedState;
  /** The encrypted token records of logged-in sessions. */
  readonly vault: TokenVault;
  /** Sessions by `sid` and `sub`, for back-channel logout. */
  readonly sessionIndex: SessionIndex;
  /** This instance's caps on login starts (state/login-rate.ts). */
  readonly loginRate: LoginRate;
  /** This request's {@link RequestState}, created on first use. */
  requestState(req: Request): RequestState;
  /** Release what the context holds (the back-channel pool, a memory sweeper). */
  close(): Promise<void>;
}

/**
 * Build the context of one instance.
 *
 * @param redis The Redis the sessions use, if any: shared state then lives there too.
 */
export function createContext(
  config: ResolvedConfig,
  redis?: RedisHandle,
  clock: Clock = systemClock(),
): ParLoginContext {
  // With mTLS (RFC 8705) every back-channel call presents the client certificate: PAR, token and refresh.
  const http = createBackChannel({
    timeoutMs: config.httpTimeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  const metadata = createMetadataSource(config.issuer, http);
  const memory = redis === undefined ? memorySharedState() : undefined;
  const shared = redis === undefined ? memory! : redisSharedState(redis, config.statePrefix);
  // Where 0.1 kept the shared state (under the session prefix): read through once, so
  // an upgrade keeps the logged-in sessions' tokens and logout index.
  const earlier = redis === undefined ? undefined : redisSharedState(redis, config.sessionPrefix);
  const sealer = createSealer(config.sessionEncryptionKeys);
  const requests = new WeakMap<Request, RequestState>();
  return Object.freeze({
    requestState(req: Request): RequestState {
      let state = requests.get(req);
      if (state === undefined) requests.set(req, (state = {}));
      return state;
    },
    dpopKeys: createDpopKeys(config.dpop, sealer),
    config,
    clock,
    http,
    metadata,
    clientAuth: createClientAuthentication(config),
    jwks: createJwksResolver(http, async () => (await metadata.get()).jwks_uri, config.jwksCooldownSeconds),
    sealer,
    shared,
    // Sealed in Redis; in this process's memory, which holds the key too, kept plain (token-vault.ts).
    vault: createTokenVault(
      shared,
      redis === undefined ? undefined : sealer,
      earlier && { shared: earlier, ttlSeconds: config.sessionAbsoluteTimeoutSeconds },
    ),
    sessionIndex: createSessionIndex(shared, earlier),
    loginRate: createLoginRate({
      perMinute: config.maxLoginStartsPerMinute,
      perClientPerMinute: config.maxLoginStartsPerIpPerMinute,
    }),
    close: async () => {
      memory?.close();
      await http.close();
    },
  });
}
