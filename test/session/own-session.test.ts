/**
 * A session started without express-session (own-session.ts) must be one express-session loads as
 * its own: the same record shape and the same signed cookie. And a store that fails sets no cookie.
 */
import { describe, expect, it } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { createOwnSession } from '../../src/session/own-session.js';
import type { SessionStoreHandle } from '../../src/session/session-store.js';

const user = {
  claims: { sub: 'alice', iss: 'https://as.example', aud: 'app', iat: 0, exp: 0 },
  tokenRef: 'ref',
  loggedInAt: Math.floor(Date.now() / 1000),
};

function handleOf(store: session.Store): SessionStoreHandle {
  return { store, kind: 'app', ready: async () => {}, close: async () => {} };
}

function appWith(secure: boolean, store: session.Store) {
  const config = resolveConfig({
    issuer: 'https://as.example',
    clientId: 'app',
    clientSecret: 'secret',
    sessionSecret: 's'.repeat(32),
    baseUrl: secure ? 'https://app.example' : 'http://127.0.0.1:3000',
  });
  const own = createOwnSession(config, handleOf(store));
  const app = express();
  app.get('/start', async (_req, res) => {
    const started = own.start(res, { user });
    try {
      await started.save();
      res.json({ id: started.id });
    } catch (err) {
      res.status(503).json({ code: (err as { code?: string }).code });
    }
  });
  app.get('/read', own.middleware, (req, res) => {
    res.json({
      id: req.sessionID,
      parLogin: (req.session as unknown as Record<string, unknown>).parLogin ?? null,
    });
  });
  return { app, config };
}

describe('createOwnSession().start', () => {
  it.each([false, true])('writes a session express-session loads as its own (https: %s)', async (secure) => {
    const store = new session.MemoryStore();
    const { app, config } = appWith(secure, store);
    const started = await request(app).get('/start');
    expect(started.status).toBe(200);
    const cookie = ([] as string[]).concat(started.headers['set-cookie'] ?? [])[0]!;
    expect(cookie).toMatch(
      new RegExp(
        `^${config.sessionCookieName}=s%3A[\\w-]{22}\\.[^;]+; Path=/; Expires=[^;]+ GMT; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax$`,
      ),
    );
    expect(cookie.split(';')[0]!.length).toBeLessThan(100);
    const read = await request(app).get('/read').set('Cookie', cookie.split(';')[0]!);
    const { id } = started.body as { id: string };
    expect(read.body).toEqual({ id, parLogin: { user } });
    // express-session sees its cookie member as one it wrote, and keeps it.
    const stored = await new Promise<session.SessionData>((resolve) => store.get(id, (_e, s) => resolve(s!)));
    expect(stored.cookie).toMatchObject({
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
      secure,
      originalMaxAge: config.sessionAbsoluteTimeoutSeconds * 1000,
    });
  });

  it('sets no cookie and says session_store_unavailable when the store cannot write', async () => {
    const store = new session.MemoryStore();
    store.set = (_sid, _sess, callback) => callback?.(new Error('down'));
    const { app } = appWith(false, store);
    const started = await request(app).get('/start');
    expect(started.status).toBe(503);
    expect((started.body as { code: string }).code).toBe('session_store_unavailable');
    expect(started.headers['set-cookie']).toBeUndefined();
  });
});
