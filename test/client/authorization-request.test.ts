/** The login's authorization request, built without an AS (OIDC Core §3.1.2.1, RFC 7636, RFC 9449 §10). */
import { describe, expect, it } from '@jest/globals';
import {
  authorizationParameters,
  authorizationRequestForm,
  pkceChallenge,
  type AuthorizationRequestConfig,
} from '../../src/client/authorization-request.js';

const config: AuthorizationRequestConfig = {
  clientId: 'app',
  redirectUri: 'https://app.example/callback',
  scope: 'openid profile',
  authorizationParams: { prompt: 'login', ui_locales: 'de' },
  requestObject: false,
  issuer: 'https://as.example',
};
const login = {
  state: 'the-state',
  nonce: 'the-nonce',
  codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
};

describe('pkceChallenge', () => {
  it('is the S256 challenge of RFC 7636 Appendix B', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});

describe('authorizationParameters', () => {
  it('carries the code flow, the login, PKCE S256 and the configured extras, and never the verifier', () => {
    const params = authorizationParameters(config, login);
    expect(Object.fromEntries(params)).toEqual({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: 'https://app.example/callback',
      scope: 'openid profile',
      state: 'the-state',
      nonce: 'the-nonce',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      prompt: 'login',
      ui_locales: 'de',
    });
    expect(params.toString()).not.toContain(login.codeVerifier);
  });

  it("takes the login's own redirect URI and scope", () => {
    const params = authorizationParameters(config, {
      ...login,
      request: { params: [], redirectUri: 'https://other.example/callback', scope: 'openid email' },
    });
    expect(params.get('redirect_uri')).toBe('https://other.example/callback');
    expect(params.get('scope')).toBe('openid email');
  });

  it('lets per-request parameters replace every configured value of their name, keeping their repeats', () => {
    const params = authorizationParameters(config, {
      ...login,
      request: {
        params: [
          ['prompt', 'consent'],
          ['resource', 'https://api.example/a'],
          ['resource', 'https://api.example/b'],
        ],
      },
    });
    expect(params.getAll('prompt')).toEqual(['consent']);
    expect(params.getAll('resource')).toEqual(['https://api.example/a', 'https://api.example/b']);
    expect(params.get('ui_locales')).toBe('de');
  });

  it('binds the code to the DPoP key when given its thumbprint (dpop_jkt)', () => {
    expect(authorizationParameters(config, login, 'the-jkt').get('dpop_jkt')).toBe('the-jkt');
    expect(authorizationParameters(config, login).has('dpop_jkt')).toBe(false);
  });
});

describe('authorizationRequestForm', () => {
  it('sends the parameters themselves without JAR', async () => {
    const params = authorizationParameters(config, login);
    expect(await authorizationRequestForm(config, params)).toBe(params);
  });

  it('refuses to send a JAR request unsigned when no key is configured', () => {
    const params = authorizationParameters(config, login);
    expect(() => authorizationRequestForm({ ...config, requestObject: true }, params)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
