/**
 * Test certificates made at run time with the `openssl` CLI: a CA, a server certificate for
 * 127.0.0.1 and client certificates (CA-issued and self-signed), in a fresh temporary directory.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One certificate: its files and PEM texts. */
export interface TestCertificate { certFile: string; keyFile: string; cert: string; key: string }

/** The material of one test run. */
export interface TestPki {
  ca: TestCertificate;
  server: TestCertificate;
  /** Issued by `ca`, subject `CN=<name>`. */
  client(name: string): TestCertificate;
  /** Self-signed, subject `CN=<name>`. */
  selfSigned(name: string): TestCertificate;
  /** A second CA the AS does not trust, and a client certificate from it. */
  strangerClient(name: string): TestCertificate;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function load(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

function selfSignedCa(dir: string, name: string): TestCertificate {
  openssl(['req', '-x509', ...EC, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-subj', `/CN=${name}`, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  return load(dir, name);
}

function issue(dir: string, ca: TestCertificate, name: string, extensions: string): TestCertificate {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', '-new', ...EC, '-keyout', join(dir, `${name}.key`), '-out', csr, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', join(dir, `${name}.crt`), '-days', '2', '-extfile', ext]);
  return load(dir, name);
}

/** Make a CA and a server certificate for 127.0.0.1. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'parlogin-pki-'));
  const ca = selfSignedCa(dir, 'test-ca');
  const server = issue(dir, ca, 'server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  return {
    ca, server,
    client: (name) => issue(dir, ca, name, 'extendedKeyUsage=clientAuth\n'),
    selfSigned: (name) => {
      openssl(['req', '-x509', ...EC, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-subj', `/CN=${name}`, '-days', '2']);
      return load(dir, name);
    },
    strangerClient: (name) => issue(dir, selfSignedCa(dir, `${name}-ca`), name, 'extendedKeyUsage=clientAuth\n'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
