/**
 * Test certificates made at run time in Node alone (no `openssl` binary, no extra package): P-256
 * keys from node:crypto, X.509 v3 certificates (RFC 5280 §4.1) encoded in DER by a few lines
 * below and signed with ECDSA-SHA256. A CA, a server certificate for 127.0.0.1, client
 * certificates (CA-issued and self-signed), and a second CA the AS does not trust. The PEM files
 * go to a fresh temporary directory, because the middleware reads its certificate from files.
 *
 * @module
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One certificate: its files and PEM texts. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/** The material of one test run. */
export interface TestPki {
  ca: TestCertificate;
  server: TestCertificate;
  /** Issued by `ca`, subject `CN=<name>`, extended key usage clientAuth. */
  client(name: string): TestCertificate;
  /** Self-signed, subject `CN=<name>`. */
  selfSigned(name: string): TestCertificate;
  /** Issued by a second CA the AS does not trust, subject `CN=<name>`. */
  strangerClient(name: string): TestCertificate;
  remove(): void;
}

// --- DER (X.690 §8), only what certificates need -------------------------------------------

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const explicit = (tagNumber: number, ...items: Buffer[]): Buffer => tlv(0xa0 + tagNumber, ...items);
const octetString = (value: Buffer): Buffer => tlv(0x04, value);
const bitString = (value: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), value);
const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
const utf8String = (value: string): Buffer => tlv(0x0c, Buffer.from(value, 'utf8'));
/** UTCTime (RFC 5280 §4.1.2.5.1): YYMMDDHHMMSSZ. */
const utcTime = (date: Date): Buffer =>
  tlv(0x17, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));

function integer(value: Buffer): Buffer {
  return tlv(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

// --- X.509 (RFC 5280) ------------------------------------------------------------------------

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const name = (commonName: string): Buffer => sequence(set(sequence(oid('2.5.4.3'), utf8String(commonName))));
const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
const keyId = (spki: Buffer): Buffer => createHash('sha1').update(spki).digest();

interface Subject {
  commonName: string;
  publicKey: KeyObject;
}
interface Issuer {
  commonName: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}
interface Profile {
  ca?: boolean;
  serverIp?: string;
  clientAuth?: boolean;
}

function certificate(subject: Subject, issuer: Issuer, profile: Profile): string {
  const spki = subject.publicKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = issuer.publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and without a leading zero byte
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', true, profile.ca ? sequence(boolean(true)) : sequence()), // basicConstraints
    // keyUsage: keyCertSign + cRLSign for a CA, digitalSignature otherwise (bit 0 is the high bit).
    extension(
      '2.5.29.15',
      true,
      profile.ca ? bitString(Buffer.from([0x06]), 1) : bitString(Buffer.from([0x80]), 7),
    ),
    extension('2.5.29.14', false, octetString(keyId(spki))), // subjectKeyIdentifier
    extension('2.5.29.35', false, sequence(tlv(0x80, keyId(issuerSpki)))), // authorityKeyIdentifier [0] keyIdentifier
    ...(profile.serverIp || profile.clientAuth
      ? [
          extension(
            '2.5.29.37',
            false,
            sequence(oid(profile.serverIp ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2')),
          ),
        ] // extKeyUsage
      : []),
    ...(profile.serverIp
      ? [
          extension(
            '2.5.29.17',
            false,
            sequence(tlv(0x87, Buffer.from(profile.serverIp.split('.').map(Number)))),
          ),
        ]
      : []), // SAN iPAddress
  ];
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ECDSA_WITH_SHA256,
    name(issuer.commonName),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 2 * 86_400_000))),
    name(subject.commonName),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer.privateKey); // DER-encoded ECDSA signature
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

/** Make a CA, a server certificate for 127.0.0.1, and client certificates on demand. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'parlogin-pki-'));
  const keys = new Map<string, Issuer>();
  let count = 0;

  function write(commonName: string, privateKey: KeyObject, cert: string): TestCertificate {
    const file = `${(count += 1)}-${commonName.replace(/[^A-Za-z0-9_-]/g, '_')}`; // one file per certificate, even for a repeated name
    const certFile = join(dir, `${file}.crt`);
    const keyFile = join(dir, `${file}.key`);
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(certFile, cert);
    writeFileSync(keyFile, key, { mode: 0o600 });
    return { certFile, keyFile, cert, key };
  }

  function make(commonName: string, issuer: Issuer | 'self', profile: Profile): TestCertificate {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const self: Issuer = { commonName, privateKey, publicKey };
    if (profile.ca) keys.set(commonName, self);
    return write(
      commonName,
      privateKey,
      certificate({ commonName, publicKey }, issuer === 'self' ? self : issuer, profile),
    );
  }

  const ca = make('test-ca', 'self', { ca: true });
  const caIssuer = keys.get('test-ca')!;
  const server = make('server', caIssuer, { serverIp: '127.0.0.1' });
  return {
    ca,
    server,
    client: (commonName) => make(commonName, caIssuer, { clientAuth: true }),
    selfSigned: (commonName) => make(commonName, 'self', { clientAuth: true }),
    strangerClient: (commonName) => {
      make(`${commonName}-stranger-ca`, 'self', { ca: true });
      return make(commonName, keys.get(`${commonName}-stranger-ca`)!, { clientAuth: true });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
