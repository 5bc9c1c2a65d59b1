/**
 * client_secret_post (RFC 6749 §2.3.1) and JAR with PAR (RFC 9101, RFC 9126 §3) against oidc-provider.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

describe('client_secret_post', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      configureAs: (config, { appUrl }) => {
        config.clientAuthMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
        (config.clients as ClientMetadata[]).push({
          client_id: 'post-client',
          client_secret: 'post-secret-0123456789abcdef0123456789',
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [`${appUrl}/callback`],
          post_logout_redirect_uris: [`${appUrl}/`],
        });
      },
      overrides: {
        clientId: 'post-client',
        clientSecret: 'post-secret-0123456789abcdef0123456789',
        clientAuthMethod: 'client_secret_post',
      },
    });
  });
  afterAll(() => stack.close());

  it('logs in with client_id and client_secret in the PAR and token bodies, and no Authorization header', async () => {
    const before = stack.record.length;
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    const [par, token] = backChannel(stack.record.slice(before));
    for (const req of [par!, token!]) {
      expect(req.status).toBeLessThan(300);
      expect(req.authorization).toBeUndefined();
      expect(req.body).toMatchObject({
        client_id: 'post-client',
        client_secret: 'post-secret-0123456789abcdef0123456789',
      });
    }
    expect(stack.logs.map((l) => JSON.stringify(l)).join('\n')).not.toContain('post-secret');
  });
});

describe('JAR with PAR', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      authMethod: 'private_key_jwt',
      configureAs: (config) => {
        config.features!.requestObjects = { enabled: true, requireSignedRequestObject: true };
        for (const client of config.clients!)
          if (client.client_id === 'jwt-client') client.request_object_signing_alg = 'ES256';
      },
      overrides: { requestObject: true },
    });
  });
  afterAll(() => stack.close());

  it('pushes a signed request object with client_id beside it, and logs in', async () => {
    const before = stack.record.length;
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    const par = backChannel(stack.record.slice(before)).find((r) => r.endpoint === 'par')!;
    expect(par.status).toBe(201);
    expect(Object.keys(par.body).sort()).toEqual([
      'client_assertion',
      'client_assertion_type',
      'client_id',
      'request',
    ]);
    const header = decodeProtectedHeader(String(par.body.request));
    expect(header).toMatchObject({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: stack.privateJwk.kid });
    const claims = decodeJwt(String(par.body.request));
    expect(claims).toMatchObject({
      iss: 'jwt-client',
      aud: stack.issuer,
      client_id: 'jwt-client',
      response_type: 'code',
      code_challenge_method: 'S256',
    });
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(60);
    expect(typeof claims.jti).toBe('string');
  });

  it('is refused by the AS without a request object (the AS really requires one)', async () => {
    const { request } = await import('undici');
    const { importJWK, SignJWT } = await import('jose');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: stack.privateJwk.kid! })
      .setIssuer('jwt-client')
      .setSubject('jwt-client')
      .setAudience(stack.issuer)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(await importJWK(stack.privateJwk, 'ES256'));
    const res = await request(`${stack.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'jwt-client',
        response_type: 'code',
        scope: 'openid',
        redirect_uri: `${stack.appUrl}/callback`,
        code_challenge_method: 'S256',
        code_challenge: 'x'.repeat(43),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    expect(res.statusCode).toBe(400);
    expect(String(((await res.body.json()) as { error_description?: string }).error_description)).toMatch(
      /request object/i,
    );
  });
});
