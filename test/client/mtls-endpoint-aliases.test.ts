/** mtls_endpoint_aliases (RFC 8705 §5): validated at discovery, used only with a client certificate. */
import { describe, expect, it } from '@jest/globals';
import { endpointFor, validateMetadata } from '../../src/client/metadata.js';

const document = {
  issuer: 'https://as.example',
  authorization_endpoint: 'https://as.example/auth',
  token_endpoint: 'https://as.example/token',
  jwks_uri: 'https://as.example/jwks',
  pushed_authorization_request_endpoint: 'https://as.example/par',
};

describe('mtls_endpoint_aliases', () => {
  it('uses the aliases only when the client presents a certificate', () => {
    const metadata = validateMetadata(
      { ...document, mtls_endpoint_aliases: { token_endpoint: 'https://mtls.as.example/token' } },
      document.issuer,
    );
    expect(endpointFor(metadata, 'token_endpoint', true)).toBe('https://mtls.as.example/token');
    expect(endpointFor(metadata, 'token_endpoint', false)).toBe('https://as.example/token');
    expect(endpointFor(metadata, 'pushed_authorization_request_endpoint', true)).toBe(
      'https://as.example/par',
    );
  });

  it('has an alias for the userinfo endpoint too, used for certificate-bound tokens', () => {
    const withUserinfo = { ...document, userinfo_endpoint: 'https://as.example/me' };
    const metadata = validateMetadata(
      { ...withUserinfo, mtls_endpoint_aliases: { userinfo_endpoint: 'https://mtls.as.example/me' } },
      document.issuer,
    );
    expect(endpointFor(metadata, 'userinfo_endpoint', true)).toBe('https://mtls.as.example/me');
    expect(endpointFor(metadata, 'userinfo_endpoint', false)).toBe('https://as.example/me');
  });

  it.each([
    ['not an object', 'https://mtls.as.example'],
    ['an http alias', { token_endpoint: 'http://mtls.as.example/token' }],
    ['a non-URL alias', { pushed_authorization_request_endpoint: 42 }],
    ['an http userinfo alias', { userinfo_endpoint: 'http://mtls.as.example/me' }],
  ])('refuses aliases that are %s (discovery_failed)', (_name, aliases) => {
    expect(() => validateMetadata({ ...document, mtls_endpoint_aliases: aliases }, document.issuer)).toThrow(
      expect.objectContaining({ code: 'discovery_failed' }),
    );
  });
});
