/**
 * The per-instance context: everything built once when `parLogin()` is called and shared by its
 * routes (configuration, back channel, discovery cache, client authentication, JWKS cache).
 * Nothing here is module-global: two instances never share a cache or a pool.
 *
 * @module
 */
import { createClientAuthentication, type ClientAuthentication } from './client-auth.js';
import type { ResolvedConfig } from './config.js';
import { createBackChannel, type BackChannel } from './http.js';
import { createJwksResolver } from './jwks.js';
import { createMetadataSource, type MetadataSource } from './metadata.js';
import { createSealer, type Sealer } from './seal.js';
import type { JWTVerifyGetKey } from 'jose';
import { generateDpopKey, type DpopKey } from './dpop.js';

/** One instance's shared machinery. */
export interface ParLoginContext {
  readonly config: ResolvedConfig;
  readonly http: BackChannel;
  readonly metadata: MetadataSource;
  readonly clientAuth: ClientAuthentication;
  readonly jwks: JWTVerifyGetKey;
  /** Encrypts token material before it reaches the session store. */
  readonly sealer: Sealer;
  /** The instance's DPoP key (`dpop: 'instance'`), generated on first use. */
  instanceDpopKey(): Promise<DpopKey>;
}

/** Build the context of one instance. */
export function createContext(config: ResolvedConfig): ParLoginContext {
  const http = createBackChannel({ timeoutMs: config.httpTimeoutMs, maxResponseBytes: config.maxResponseBytes, ...(config.tls ? { tls: config.tls } : {}) });
  const metadata = createMetadataSource(config.issuer, http);
  let dpopKey: Promise<DpopKey> | undefined;
  return Object.freeze({
    instanceDpopKey: () => (dpopKey ??= generateDpopKey()),
    config,
    http,
    metadata,
    clientAuth: createClientAuthentication(config),
    jwks: createJwksResolver(http, async () => (await metadata.get()).jwks_uri, config.jwksCooldown),
    sealer: createSealer(config.sessionEncryptionKeys),
  });
}
