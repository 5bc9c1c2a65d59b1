/**
 * Mutual TLS material (RFC 8705): the client certificate and key that authenticate the client
 * (`tls_client_auth`, §2.1; `self_signed_tls_client_auth`, §2.2) and bind tokens to the certificate
 * (§3), and extra CA certificates for an AS whose TLS certificate a private CA issued. Read once,
 * at start-up, from files (or PEM text), and checked to belong together.
 *
 * Which endpoint URL the client then calls (the `mtls_endpoint_aliases` of RFC 8705 §5) is decided
 * in client/metadata.ts.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';

/** PEM material for the back channel's TLS connections. */
export interface TlsMaterial {
  /** The client certificate chain (PEM), when the client authenticates with mTLS or binds tokens to it. */
  readonly cert?: string;
  /** Its private key (PEM). */
  readonly key?: string;
  /** Extra trusted CA certificates (PEM). */
  readonly ca?: string;
}

/**
 * The undici `connect` options that present `tls`'s client certificate (RFC 8705 §2) and trust its
 * extra CAs on top of the system's (a `ca` option alone would replace them).
 */
export function tlsConnectOptions(tls: TlsMaterial | undefined): { connect?: ConnectionOptions } {
  if (tls === undefined) return {};
  return {
    connect: {
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
    },
  };
}

type Problem = (option: string, text: string) => void;

/** Where PEM text begins: its first `-----BEGIN ` line (text before it, e.g. `Bag Attributes`, is skipped). */
const PEM_BEGIN = '-----BEGIN ';

/**
 * Base64 text as long as a PEM body line or more (64 characters; 48 leaves room for a cut line):
 * a key body pasted on one line (as environment variables often hold it), never a path segment.
 */
const BASE64_RUN = /[A-Za-z0-9+/=_-]{48,}/;

/**
 * Whether `value` could be a file path worth quoting: one short line without PEM markers, JSON
 * (a JWK) or a long base64 run. Anything else may be key material (e.g. PEM text mangled by a tool,
 * a key body without its BEGIN line) and is never quoted in a problem.
 */
function looksLikePath(value: string): boolean {
  return (
    value.length <= 256 && !/[\r\n{}"]/.test(value) && !value.includes('-----') && !BASE64_RUN.test(value)
  );
}

/**
 * Read a PEM value: PEM text (from its first `-----BEGIN ` line, wherever it starts), else a file
 * path. A problem quotes the value only when it looks like a path, never what may be key material.
 */
function readPem(value: unknown, option: string, problem: Problem): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    return void problem(option, 'must be a PEM file path');
  const begin = value.indexOf(PEM_BEGIN);
  if (begin >= 0) return value.slice(begin);
  if (!looksLikePath(value)) {
    return void problem(
      option,
      `is neither PEM text nor a readable file path (a value of ${value.length} characters, not shown)`,
    );
  }
  try {
    return readFileSync(value, 'utf8');
  } catch {
    return void problem(option, `cannot be read (file "${value}")`);
  }
}

/**
 * Load and check the TLS material of the options.
 *
 * @returns The material, or `undefined` when none is configured. Problems are reported through `problem`.
 */
export function loadTlsMaterial(
  options: { tlsClientCert?: unknown; tlsClientKey?: unknown; tlsCa?: unknown },
  problem: Problem,
): TlsMaterial | undefined {
  const cert = readPem(options.tlsClientCert, 'tlsClientCert', problem);
  const key = readPem(options.tlsClientKey, 'tlsClientKey', problem);
  const ca = readPem(options.tlsCa, 'tlsCa', problem);
  if ((cert === undefined) !== (key === undefined)) {
    if (options.tlsClientCert === undefined) problem('tlsClientCert', 'is required with tlsClientKey');
    if (options.tlsClientKey === undefined) problem('tlsClientKey', 'is required with tlsClientCert');
  }
  if (cert !== undefined && key !== undefined) {
    let x509: X509Certificate | undefined;
    try {
      x509 = new X509Certificate(cert);
    } catch {
      problem('tlsClientCert', 'is not a PEM certificate');
    }
    try {
      const privateKey = createPrivateKey(key);
      if (x509 && !x509.checkPrivateKey(privateKey))
        problem('tlsClientKey', 'does not belong to tlsClientCert');
    } catch {
      problem('tlsClientKey', 'is not a PEM private key');
    }
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      problem('tlsCa', 'is not a PEM certificate');
    }
  }
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  return Object.freeze({ ...(cert && key ? { cert, key } : {}), ...(ca ? { ca } : {}) });
}
