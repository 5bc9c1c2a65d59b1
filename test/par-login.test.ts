import { afterEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { ConfigError, parLogin } from '../src/index.js';

const ENV = {
  OIDC_ISSUER: 'https://as.example',
  OIDC_CLIENT_ID: 'env-app',
  OIDC_CLIENT_SECRET: 'env-secret-value',
  APP_BASE_URL: 'https://app.example',
  SESSION_SECRET: 'e'.repeat(40),
};
const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

describe('parLogin()', () => {
  it('reads its configuration from the environment when given no options', async () => {
    Object.assign(process.env, ENV);
    const middleware = parLogin();
    expect(middleware.config).toMatchObject({
      issuer: 'https://as.example',
      clientId: 'env-app',
      redirectUri: 'https://app.example/callback',
    });
    await middleware.close();
  });

  it('lets explicit options override the environment', async () => {
    Object.assign(process.env, ENV);
    const middleware = parLogin({ clientId: 'option-app', scope: 'openid' });
    expect(middleware.config).toMatchObject({
      clientId: 'option-app',
      scope: 'openid',
      clientSecret: 'env-secret-value',
    });
    await middleware.close();
  });

  it('throws one ConfigError naming every missing variable at start-up', () => {
    for (const name of Object.keys(ENV)) delete process.env[name];
    let error: unknown;
    try {
      parLogin();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of [
      'OIDC_ISSUER',
      'OIDC_CLIENT_ID',
      'OIDC_CLIENT_SECRET',
      'APP_BASE_URL',
      'SESSION_SECRET',
    ]) {
      expect((error as Error).message).toContain(name);
    }
  });

  it('warns loudly once about the in-memory store in production, and sets no cookie for anonymous pages', async () => {
    const records: Array<Record<string, unknown>> = [];
    process.env.NODE_ENV = 'production';
    const middleware = parLogin({
      ...{
        issuer: ENV.OIDC_ISSUER,
        clientId: 'a',
        clientSecret: 'b',
        baseUrl: ENV.APP_BASE_URL,
        sessionSecret: ENV.SESSION_SECRET,
      },
      logger: { warn: (r) => void records.push(r), error: (r) => void records.push(r) },
    });
    const app = express()
      .use(middleware)
      .get('/', (req, res) => void res.json({ auth: req.auth.isAuthenticated() }));
    const first = await request(app).get('/');
    await request(app).get('/');
    expect(first.body).toEqual({ auth: false });
    expect(first.headers['set-cookie']).toBeUndefined();
    const warnings = records.filter((r) => String(r.msg).includes('in-memory session store in production'));
    expect(warnings).toHaveLength(1);
    await middleware.close();
  });

  it('keeps an app-mounted session middleware instead of adding its own', async () => {
    const { default: session } = await import('express-session');
    const middleware = parLogin({
      issuer: ENV.OIDC_ISSUER,
      clientId: 'a',
      clientSecret: 'b',
      baseUrl: ENV.APP_BASE_URL,
      sessionSecret: ENV.SESSION_SECRET,
    });
    const app = express()
      .use(session({ secret: 'x'.repeat(32), name: 'mine', resave: false, saveUninitialized: true }))
      .use(middleware)
      .get('/', (_req, res) => void res.send('ok'));
    const res = await request(app).get('/');
    expect(String(res.headers['set-cookie'])).toMatch(/^mine=/);
    expect(String(res.headers['set-cookie'])).not.toContain('parlogin');
    await middleware.close();
  });
});

/** Options of an instance that never reaches its AS (no login is started). */
const OFFLINE = {
  issuer: 'https://as.example',
  clientId: 'app',
  clientSecret: 'secret-value-long-enough',
  baseUrl: 'http://127.0.0.1:3000',
  sessionSecret: 's'.repeat(40),
};

describe('two parLogin() instances on one request', () => {
  const OPTIONS = OFFLINE;

  function appWith(second: boolean) {
    const records: Array<Record<string, unknown>> = [];
    const logger = { warn: (record: Record<string, unknown>) => records.push(record), error: () => {} };
    const outer = parLogin({ ...OPTIONS, logger });
    const inner = parLogin({ ...OPTIONS, logger });
    const app = express();
    app.use(outer);
    const area = express.Router();
    if (second) area.use(inner);
    area.get('/page', (req, res) => void res.json({ loggedIn: req.auth.isAuthenticated() }));
    app.use('/area', area);
    return { app, records, close: () => Promise.all([outer.close(), inner.close()]) };
  }

  it('warns once, naming the request and what to do', async () => {
    const { app, records, close } = appWith(true);
    for (let i = 0; i < 3; i++) expect((await request(app).get('/area/page')).status).toBe(200);
    await close();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ code: 'two_instances' });
    expect(records[0]!.msg).toContain('GET /page');
    expect(records[0]!.msg).toContain('Mount parLogin() once');
  });

  it('says nothing with one instance', async () => {
    const { app, records, close } = appWith(false);
    expect((await request(app).get('/area/page')).status).toBe(200);
    await close();
    expect(records).toEqual([]);
  });
});

describe('loginRequired', () => {
  const OPTIONS = { ...OFFLINE, logger: { warn: () => {}, error: () => {} } };

  function appWith(loginRequired: boolean) {
    const middleware = parLogin({ ...OPTIONS, loginRequired });
    const app = express();
    app.get('/health', (_req, res) => void res.send('ok')); // before parLogin(): public
    app.use(middleware);
    app.get('/report', (_req, res) => void res.send('secret report'));
    return { app, close: () => middleware.close() };
  }

  it('guards every route after parLogin(), and leaves the routes before it and its own open', async () => {
    const { app, close } = appWith(true);
    const navigation = await request(app)
      .get('/report')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Mode', 'navigate');
    expect(navigation.status).toBe(303);
    expect(navigation.headers.location).toBe('/login?returnTo=%2Freport');
    const fetched = await request(app).get('/report').set('Accept', 'application/json');
    expect(fetched.status).toBe(401);
    expect(fetched.body).toMatchObject({ error: 'unauthenticated' });
    expect((await request(app).get('/health')).text).toBe('ok');
    expect((await request(app).get('/me')).status).toBe(401);
    await close();
  });

  it('leaves routes open when off', async () => {
    const { app, close } = appWith(false);
    expect((await request(app).get('/report')).text).toBe('secret report');
    await close();
  });
});
