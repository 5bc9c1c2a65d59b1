/**
 * What the bench orchestrator and its child processes say to each other over IPC. Every server
 * under test runs in its own child so that autocannon (in the parent) and the servers do not
 * share an event loop, and so that CPU and memory can be read per server.
 *
 * @module
 */
import type { JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { ParLoginOptions } from '../src/index.js';

/** Settings of an express-openid-connect app (serializable; the child adds nothing but a secret). */
export interface EocSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** A private JWK with `alg` and `kid`, for private_key_jwt. */
  privateJwk?: JWK;
}

/**
 * oidc-provider features a bench AS turns on beyond the demo AS's (child.ts holds their settings):
 * `requestObjects` (JAR, RFC 9101) and `dPoP` (RFC 9449).
 */
export type AsFeature = 'requestObjects' | 'dPoP';

/** What a child runs, and on which port. */
export type ChildInit =
  | { role: 'as'; port: number; clients: ClientMetadata[]; features?: AsFeature[] }
  | { role: 'scripted-as'; port: number }
  | { role: 'ours'; port: number; options: ParLoginOptions & { redisUrl?: string } }
  | { role: 'eoc'; port: number; settings: EocSettings }
  | { role: 'bare'; port: number }
  | { role: 'floor'; port: number; settings: FloorSettings }
  | { role: 'bare-session'; port: number; secret: string; cookieName: string; store: BareStore };

/**
 * What the floor app (apps.ts) needs to log in: its client and how the login pushes, as ours does
 * with the same client: `basic` (client_secret_basic), `jwt` (private_key_jwt), `jar` (private_key_jwt
 * and a signed request object) or `dpop` (client_secret_basic and a fresh key's `dpop_jkt` per login).
 * `privateJwk` is a private JWK with `alg` (ES256) and `kid`.
 */
export type FloorSettings = { issuer: string; clientId: string } & (
  | { method: 'basic'; clientSecret: string }
  | { method: 'dpop'; clientSecret: string }
  | { method: 'jwt'; privateJwk: JWK }
  | { method: 'jar'; privateJwk: JWK }
);

/** The store of a bare express-session app: express-session's MemoryStore, ours's TtlMemoryStore, or Redis. */
export type BareStore = { kind: 'memory' } | { kind: 'ttl-memory' } | { kind: 'redis'; url: string };

export type Role = ChildInit['role'];

/** Memory of a child after a full garbage collection, in bytes. */
export interface MemoryReading {
  heapUsed: number;
  rss: number;
}

/** Calls a child answers: argument and result types. */
export interface ChildCalls {
  init: { in: ChildInit; out: { url: string } };
  /** `process.cpuUsage()` in microseconds. */
  cpu: { in: undefined; out: { user: number; system: number } };
  mem: { in: undefined; out: MemoryReading };
  /** Number of sessions in the in-memory session stores of the child. */
  keys: { in: undefined; out: number };
  /** Entries in the in-memory shared state of our middleware (pending logins, token records, logout index); 0 for other apps. */
  sharedKeys: { in: undefined; out: number };
  /** The stored JSON of one session of an in-memory store. */
  session: { in: { sid: string }; out: string | undefined };
  /** Put a session into the child's own store (bare-session only). */
  seed: { in: { sid: string; json: string }; out: null };
  stop: { in: undefined; out: null };
}

export type CallType = keyof ChildCalls;

export interface CallMessage {
  id: number;
  type: CallType;
  payload: unknown;
}

export type ReplyMessage =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
