import { describe, expect, it } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { createRequire } from 'node:module';
import {
  COOKIE_BUDGET,
  compactSessionIds,
  signedCookieLength,
  signSessionId,
  unsignSessionId,
} from '../../src/session/session-id.js';

const SECRET = 'a-session-secret-of-at-least-32-characters';

/** An app with real express-session using the generator, answering with the cookie it set. */
function appWith(name: string) {
  const app = express();
  app.use(
    session({
      name,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      genid: compactSessionIds(name, SECRET),
    }),
  );
  app.get('/', (req, res) => {
    (req.session as unknown as { n: number }).n = 1;
    res.end();
  });
  return app;
}

describe('compactSessionIds', () => {
  it('draws unique 128-bit base64url ids', () => {
    const next = compactSessionIds('__Host-parlogin', SECRET);
    const ids = new Set(Array.from({ length: 2000 }, next));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('keeps the cookie express-session really sends under 100 bytes with the https name', async () => {
    const agent = request(appWith('__Host-parlogin'));
    const lengths: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      const res = await agent.get('/');
      const pair = String(res.headers['set-cookie']?.[0]).split(';')[0]!;
      expect(pair.startsWith('__Host-parlogin=s%3A')).toBe(true);
      lengths.push(Buffer.byteLength(pair));
    }
    expect(Math.max(...lengths)).toBeLessThanOrEqual(COOKIE_BUDGET);
  });

  it('predicts the sent length exactly, including percent-encoded + and / of the signature', async () => {
    const res = await request(appWith('parlogin')).get('/');
    const pair = String(res.headers['set-cookie']?.[0]).split(';')[0]!;
    const id = decodeURIComponent(pair.slice('parlogin='.length)).slice(2).split('.')[0]!;
    expect(signedCookieLength('parlogin', id, SECRET)).toBe(Buffer.byteLength(pair));
  });

  it('redraws ids whose signature would overflow, and gives up filtering for names too long to fit', () => {
    // A 27-character name leaves room for no percent-encoded character at all.
    const tight = 'x'.repeat(COOKIE_BUDGET - 1 - 70);
    const next = compactSessionIds(tight, SECRET);
    for (let i = 0; i < 200; i += 1) expect(signedCookieLength(tight, next(), SECRET)).toBe(COOKIE_BUDGET);
    const long = 'y'.repeat(40);
    expect(compactSessionIds(long, SECRET)()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

/** cookie-signature, as express-session loads it (it ships no types). */
const signature = createRequire(createRequire(import.meta.url).resolve('express-session'))(
  'cookie-signature',
) as {
  unsign(value: string, secret: string): string | false;
};

describe('unsignSessionId', () => {
  const secrets = ['a'.repeat(32), 'b'.repeat(32)];
  const signed = (id: string, secret: string) => `s:${id}.${signSessionId(id, secret)}`;

  it('accepts what cookie-signature signs, with the current or a previous secret', () => {
    for (const secret of secrets) {
      const value = signed('some-id', secret);
      expect(signature.unsign(value.slice(2), secret)).toBe('some-id');
      expect(unsignSessionId(value, secrets)).toBe('some-id');
    }
  });

  it.each([
    ['another secret', signed('some-id', 'c'.repeat(32))],
    ['a changed id', signed('some-id', 'a'.repeat(32)).replace('some-id', 'some-ie')],
    ['a cut signature', signed('some-id', 'a'.repeat(32)).slice(0, -1)],
    ['no s: prefix', signed('some-id', 'a'.repeat(32)).slice(2)],
    ['no signature', 's:some-id'],
    ['an empty id', signed('', 'a'.repeat(32))],
  ])('refuses %s', (_name, value) => {
    expect(unsignSessionId(value, secrets)).toBeUndefined();
  });
});
