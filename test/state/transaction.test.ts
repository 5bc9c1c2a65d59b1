import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { pkceChallenge } from '../../src/client/authorization-request.js';
import { newTransaction, RESTART_STATE_PREFIX } from '../../src/state/transaction.js';

describe('login transactions', () => {
  it('makes fresh 256-bit state, nonce and verifier every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const tx = newTransaction('/', 600);
      for (const value of [tx.state, tx.nonce, tx.codeVerifier]) {
        expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(seen.has(value)).toBe(false);
        seen.add(value);
      }
    }
  });

  it('computes the RFC 7636 S256 challenge (Appendix B vector)', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    expect(pkceChallenge('abc')).toBe(createHash('sha256').update('abc').digest('base64url'));
  });

  it('marks the state of a restarted login and keeps its expiry', () => {
    const tx = newTransaction('/', 60, 1_000, true);
    expect(tx.state.startsWith(RESTART_STATE_PREFIX)).toBe(true);
    expect(tx.expiresAtMs).toBe(61_000);
    expect(newTransaction('/', 60).state.startsWith(RESTART_STATE_PREFIX)).toBe(false);
  });
});
