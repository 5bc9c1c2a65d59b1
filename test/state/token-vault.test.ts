/**
 * The token vault: sealed token records in the shared state, each bound to its reference, read back
 * in this version's shape; records of earlier versions (unbound) opened once and rewritten bound;
 * conditional replacement for refreshes.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { TokenSet } from '../../src/client/token.js';
import { createSealer } from '../../src/crypto/seal.js';
import { memorySharedState, type SharedState } from '../../src/state/shared-state.js';
import { createTokenVault } from '../../src/state/token-vault.js';

const shared = memorySharedState();
afterEach(() => shared.close());
const sealer = createSealer([randomBytes(32)]);
const tokens: TokenSet = {
  accessToken: 'at',
  tokenType: 'Bearer',
  idToken: 'id',
  expiresAtSeconds: 1_900_000_000,
};
const refreshed: TokenSet = { ...tokens, accessToken: 'at-2', refreshToken: 'rt-2' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('createTokenVault', () => {
  it('keeps a record sealed and gives it back', async () => {
    const vault = createTokenVault(shared, sealer);
    const ref = vault.newReference();
    await vault.write(ref, tokens, 60);
    expect(await shared.get(`tokens:${ref}`)).not.toContain('"accessToken"');
    expect(await vault.read(ref)).toEqual(tokens);
  });

  it('keeps a record as plain JSON without a sealer (the in-memory shared state), and replaces it conditionally', async () => {
    const vault = createTokenVault(shared, undefined);
    const ref = vault.newReference();
    await vault.write(ref, tokens, 60);
    expect(JSON.parse((await shared.get(`tokens:${ref}`))!)).toEqual(tokens);
    const seen = (await vault.readRecord(ref))!;
    expect(seen.tokens).toEqual(tokens);
    expect(await vault.replace(ref, seen, refreshed, 60)).toBe(true);
    expect(await vault.replace(ref, seen, { ...refreshed, accessToken: 'at-3' }, 60)).toBe(false);
    expect(await vault.read(ref)).toEqual(refreshed);
  });

  it("reads a record of 0.1.x, whose expiry was named expiresAt, under this version's name", async () => {
    const vault = createTokenVault(shared, sealer);
    const ref = vault.newReference();
    const { expiresAtSeconds, ...rest } = tokens;
    await shared.set(
      `tokens:${ref}`,
      sealer.seal(JSON.stringify({ ...rest, expiresAt: expiresAtSeconds })),
      60,
    );
    expect(await vault.read(ref)).toEqual(tokens);
  });

  it('gives nothing for a record sealed under a key no longer configured', async () => {
    const ref = 'r';
    await createTokenVault(shared, createSealer([randomBytes(32)])).write(ref, tokens, 60);
    expect(await createTokenVault(shared, sealer).read(ref)).toBeUndefined();
  });
});

describe('a record bound to its reference', () => {
  it('does not open when copied under another reference (swapped sessions)', async () => {
    const vault = createTokenVault(shared, sealer);
    const [alice, bob] = [vault.newReference(), vault.newReference()];
    await vault.write(alice, tokens, 60);
    await vault.write(bob, refreshed, 60);
    await shared.set(`tokens:${bob}`, (await shared.get(`tokens:${alice}`))!, 60);
    expect(await vault.read(bob)).toBeUndefined();
    expect(await vault.read(alice)).toEqual(tokens);
  });

  it('opens a record of an earlier version (unbound) once and rewrites it bound, keeping its lifetime', async () => {
    const vault = createTokenVault(shared, sealer);
    const [ref, other] = [vault.newReference(), vault.newReference()];
    await shared.set(`tokens:${ref}`, sealer.seal(JSON.stringify(tokens)), 1);
    expect(await vault.read(ref)).toEqual(tokens);
    const rewritten = (await shared.get(`tokens:${ref}`))!;
    expect(sealer.isBound(rewritten)).toBe(true);
    expect(await vault.read(ref)).toEqual(tokens);
    await shared.set(`tokens:${other}`, rewritten, 60);
    expect(await vault.read(other)).toBeUndefined();
    await sleep(1_200);
    expect(await shared.get(`tokens:${ref}`)).toBeUndefined();
  });

  it('never lets the rewrite of an earlier record overwrite a refresh stored meanwhile', async () => {
    const racing: SharedState = Object.create(shared) as SharedState;
    const vault = createTokenVault(racing, sealer);
    const ref = vault.newReference();
    let raced = false;
    racing.get = async (key) => {
      const value = await shared.get(key);
      if (!raced) {
        raced = true; // another instance stores its refresh between our read and our rewrite
        await createTokenVault(shared, sealer).write(ref, refreshed, 60);
      }
      return value;
    };
    await shared.set(`tokens:${ref}`, sealer.seal(JSON.stringify(tokens)), 60);
    expect(await vault.read(ref)).toEqual(refreshed);
    expect(await createTokenVault(shared, sealer).read(ref)).toEqual(refreshed);
  });
});

describe('replacing a record after a refresh', () => {
  it('replaces the record it read, and refuses once another writer replaced or removed it', async () => {
    const vault = createTokenVault(shared, sealer);
    const ref = vault.newReference();
    await vault.write(ref, tokens, 60);
    const seen = (await vault.readRecord(ref))!;
    expect(seen.tokens).toEqual(tokens);
    expect(await vault.replace(ref, seen, refreshed, 60)).toBe(true);
    expect(await vault.read(ref)).toEqual(refreshed);
    expect(await vault.replace(ref, seen, { ...tokens, accessToken: 'late' }, 60)).toBe(false);
    expect(await vault.read(ref)).toEqual(refreshed);
    const latest = (await vault.readRecord(ref))!;
    await vault.remove(ref); // logged out meanwhile: a refresh must not bring the tokens back
    expect(await vault.replace(ref, latest, tokens, 60)).toBe(false);
    expect(await vault.read(ref)).toBeUndefined();
  });

  it('replaces a record of an earlier version that it read (rewritten bound by that read)', async () => {
    const vault = createTokenVault(shared, sealer);
    const ref = vault.newReference();
    await shared.set(`tokens:${ref}`, sealer.seal(JSON.stringify(tokens)), 60);
    const seen = (await vault.readRecord(ref))!;
    expect(await vault.replace(ref, seen, refreshed, 60)).toBe(true);
    expect(await vault.read(ref)).toEqual(refreshed);
  });
});
