import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { addTransaction, isEmpty, newTransaction, s256, takeTransaction, type TransactionStore } from '../src/transaction.js';

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
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(s256('abc')).toBe(createHash('sha256').update('abc').digest('base64url'));
  });

  it('takes a transaction once, then says it was used', () => {
    const store: TransactionStore = {};
    const tx = newTransaction('/p', 600);
    addTransaction(store, tx, 5);
    expect(takeTransaction(store, tx.state)).toEqual(tx);
    expect(takeTransaction(store, tx.state)).toBe('used');
    expect(takeTransaction(store, 'other')).toBe('unknown');
  });

  it('keeps several pending logins, dropping the oldest beyond the cap', () => {
    const store: TransactionStore = {};
    const now = Date.now();
    const txs = [0, 1, 2, 3].map((i) => newTransaction('/', 600, now + i));
    for (const tx of txs) addTransaction(store, tx, 3, now);
    expect(Object.keys(store.pending!)).toEqual([txs[1]!.state, txs[2]!.state, txs[3]!.state]);
    expect(takeTransaction(store, txs[0]!.state)).toBe('unknown');
    expect(takeTransaction(store, txs[2]!.state)).toEqual(txs[2]);
  });

  it('refuses and forgets expired transactions', () => {
    const store: TransactionStore = {};
    const tx = newTransaction('/', 60, 1_000);
    addTransaction(store, tx, 5, 1_000);
    expect(takeTransaction(store, tx.state, 1_000 + 61_000)).toBe('expired');
    expect(store.pending).toBeUndefined();
    const later = newTransaction('/', 60, 100_000);
    addTransaction(store, newTransaction('/', 60, 1_000), 5, 1_000);
    addTransaction(store, later, 5, 100_000);
    expect(Object.keys(store.pending!)).toEqual([later.state]);
  });

  it('does not treat inherited property names as states', () => {
    const store: TransactionStore = {};
    addTransaction(store, newTransaction('/', 60), 5);
    expect(takeTransaction(store, '__proto__')).toBe('unknown');
    expect(takeTransaction(store, 'constructor')).toBe('unknown');
    expect(isEmpty({})).toBe(true);
  });
});
