/**
 * A bench stack: the real AS (oidc-provider, PAR required) in one child, and the apps under test
 * in their own children, each app registered at the AS. Ports are chosen first so that every
 * client can list every app's redirect URI.
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { ParLoginOptions } from '../src/index.js';
import { freePorts, startChild, type Child, type ChildOptions } from './children.js';
import type { AsFeature, ChildInit, FloorSettings } from './protocol.js';

/** The kinds of app a stack can run. */
export type AppKind =
  | 'ours-basic'
  | 'ours-jwt'
  | 'ours-jar'
  | 'ours-dpop'
  | 'ours-redis'
  | 'eoc-basic'
  | 'eoc-jwt'
  | 'floor'
  | 'floor-jwt'
  | 'floor-jar'
  | 'floor-dpop'
  | 'bare'
  | 'bare-session'
  | 'bare-session-ttl'
  | 'bare-session-redis';

/** A client's credentials: a secret, or an ES256 key pair. */
export interface ClientCredentials {
  clientId: string;
  secret?: string;
  privateJwk?: JWK;
  publicJwk?: JWK;
}

/** Cookie name and secret shared by ours and the bare express-session app, so one cookie fits both. */
export const SESSION_COOKIE = 'parlogin';

/** The clients registered at the AS of every stack. */
export type ClientName = 'oursBasic' | 'oursJwt' | 'oursJar' | 'oursDpop' | 'eocBasic' | 'eocJwt';

/** A running stack. */
export interface BenchStack {
  issuer: string;
  as: Child;
  apps: Partial<Record<AppKind, Child>>;
  credentials: Record<ClientName, ClientCredentials>;
  sessionSecret: string;
  stop(): Promise<void>;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Redis URL for the `*-redis` kinds. */
  redisUrl?: string;
  /** Write CPU profiles of every app (not the AS) here. */
  cpuProfileDir?: string;
  /** oidc-provider features to turn on at the AS (`requestObjects` for `ours-jar` and `floor-jar`). */
  asFeatures?: AsFeature[];
}

async function keyPairClient(clientId: string): Promise<ClientCredentials> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  return {
    clientId,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

function registration(client: ClientCredentials, appUrls: string[]): ClientMetadata {
  const uris = {
    redirect_uris: appUrls.map((url) => `${url}/callback`),
    post_logout_redirect_uris: appUrls.map((url) => `${url}/`),
  };
  if (client.secret !== undefined) {
    return {
      client_id: client.clientId,
      client_secret: client.secret,
      token_endpoint_auth_method: 'client_secret_basic',
      ...uris,
    };
  }
  return {
    client_id: client.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [client.publicJwk!] },
    // Read by oidc-provider only with its requestObjects feature on (JAR); ignored otherwise.
    ...(client.clientId === 'ours-jar' ? { request_object_signing_alg: 'ES256' } : {}),
    ...uris,
  };
}

/** Start the AS and the given apps (each in its own process). */
export async function startStack(kinds: AppKind[], options: StackOptions = {}): Promise<BenchStack> {
  const [asPort, ...appPorts] = await freePorts(kinds.length + 1);
  const appUrls = appPorts.map((port) => `http://127.0.0.1:${port}`);
  const credentials = {
    oursBasic: { clientId: 'ours-basic', secret: randomBytes(32).toString('base64url') },
    oursJwt: await keyPairClient('ours-jwt'),
    oursJar: await keyPairClient('ours-jar'),
    oursDpop: { clientId: 'ours-dpop', secret: randomBytes(32).toString('base64url') },
    eocBasic: { clientId: 'eoc-basic', secret: randomBytes(32).toString('base64url') },
    eocJwt: await keyPairClient('eoc-jwt'),
  };
  const sessionSecret = randomBytes(32).toString('base64url');
  const clients = Object.values(credentials).map((client) => registration(client, appUrls));
  const as = await startChild('as', {
    role: 'as',
    port: asPort!,
    clients,
    ...(options.asFeatures !== undefined ? { features: options.asFeatures } : {}),
  });
  const issuer = as.url;
  const started: Child[] = [as];
  try {
    const apps = await Promise.all(
      kinds.map(async (kind, i) => {
        const init = appInit(
          kind,
          appPorts[i]!,
          appUrls[i]!,
          issuer,
          credentials,
          sessionSecret,
          options.redisUrl,
        );
        const childOptions: ChildOptions = {
          env: { NODE_ENV: 'production', REDIS_URL: kind.endsWith('-redis') ? options.redisUrl : undefined },
          ...(options.cpuProfileDir !== undefined ? { cpuProfileDir: options.cpuProfileDir } : {}),
        };
        const child = await startChild(kind, init, childOptions);
        started.push(child);
        return [kind, child] as const;
      }),
    );
    return {
      issuer,
      as,
      apps: Object.fromEntries(apps),
      credentials,
      sessionSecret,
      stop: () => stopAll(started),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((child) => child.stop()));
}

/**
 * The caps on login starts for a bench app: the load comes from one address at rates far beyond a
 * person's, so the caps are out of reach; they are still counted, as in production.
 */
export const LOAD_CAPS = { maxLoginStartsPerMinute: 10_000_000, maxLoginStartsPerIpPerMinute: 10_000_000 };

/** Our middleware's options for an app at `baseUrl`. */
export function oursOptions(
  issuer: string,
  baseUrl: string,
  client: ClientCredentials,
  sessionSecret: string,
): ParLoginOptions {
  return {
    issuer,
    baseUrl,
    sessionSecret,
    clientId: client.clientId,
    ...LOAD_CAPS,
    ...(client.secret !== undefined
      ? { clientAuthMethod: 'client_secret_basic', clientSecret: client.secret }
      : { clientAuthMethod: 'private_key_jwt', privateKey: client.privateJwk! }),
  };
}

/** Each floor app's push method and the client of the ours app it stands beside. */
const FLOORS = {
  floor: ['basic', 'oursBasic'],
  'floor-jwt': ['jwt', 'oursJwt'],
  'floor-jar': ['jar', 'oursJar'],
  'floor-dpop': ['dpop', 'oursDpop'],
} as const satisfies Record<string, [FloorSettings['method'], ClientName]>;

/**
 * A floor app's settings: the client of the ours app it stands beside, pushing the same way. Every
 * client lists every app's redirect URI, the floors' too.
 */
function floorSettings(
  kind: keyof typeof FLOORS,
  issuer: string,
  credentials: BenchStack['credentials'],
): FloorSettings {
  const [method, name] = FLOORS[kind];
  const { clientId, secret, privateJwk } = credentials[name];
  return method === 'basic' || method === 'dpop'
    ? { issuer, clientId, method, clientSecret: secret! }
    : { issuer, clientId, method, privateJwk: privateJwk! };
}

function appInit(
  kind: AppKind,
  port: number,
  url: string,
  issuer: string,
  credentials: BenchStack['credentials'],
  sessionSecret: string,
  redisUrl: string | undefined,
): ChildInit {
  switch (kind) {
    case 'ours-basic':
      return { role: 'ours', port, options: oursOptions(issuer, url, credentials.oursBasic, sessionSecret) };
    case 'ours-jwt':
      return { role: 'ours', port, options: oursOptions(issuer, url, credentials.oursJwt, sessionSecret) };
    case 'ours-jar':
      return {
        role: 'ours',
        port,
        options: { ...oursOptions(issuer, url, credentials.oursJar, sessionSecret), requestObject: true },
      };
    case 'ours-dpop':
      return {
        role: 'ours',
        port,
        options: { ...oursOptions(issuer, url, credentials.oursDpop, sessionSecret), dpop: 'session' },
      };
    case 'ours-redis':
      return {
        role: 'ours',
        port,
        options: { ...oursOptions(issuer, url, credentials.oursBasic, sessionSecret), redisUrl },
      };
    case 'eoc-basic':
      return {
        role: 'eoc',
        port,
        settings: { issuer, clientId: 'eoc-basic', clientSecret: credentials.eocBasic.secret },
      };
    case 'eoc-jwt':
      return {
        role: 'eoc',
        port,
        settings: { issuer, clientId: 'eoc-jwt', privateJwk: credentials.eocJwt.privateJwk },
      };
    case 'floor':
    case 'floor-jwt':
    case 'floor-jar':
    case 'floor-dpop':
      return { role: 'floor', port, settings: floorSettings(kind, issuer, credentials) };
    case 'bare':
      return { role: 'bare', port };
    case 'bare-session':
      return {
        role: 'bare-session',
        port,
        secret: sessionSecret,
        cookieName: SESSION_COOKIE,
        store: { kind: 'memory' },
      };
    case 'bare-session-ttl':
      return {
        role: 'bare-session',
        port,
        secret: sessionSecret,
        cookieName: SESSION_COOKIE,
        store: { kind: 'ttl-memory' },
      };
    case 'bare-session-redis':
      return {
        role: 'bare-session',
        port,
        secret: sessionSecret,
        cookieName: SESSION_COOKIE,
        store: { kind: 'redis', url: redisUrl! },
      };
  }
}
