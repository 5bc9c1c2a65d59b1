/** The token vault: sealed token records in the shared state, read back in this version's shape. */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { TokenSet } from '../../src/client/token.js';
import { createSealer } from '../../src/crypto/seal.js';
import { memorySharedState } from '../../src/state/shared-state.js';
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

describe('createTokenVault', () => {
  it('keeps a record sealed and gives it back', async () => {
    const vault = createTokenVault(shared, sealer);
    const ref = vault.newReference();
    await vault.write(ref, tokens, 60);
    expect(await shared.get(`tokens:${ref}`)).not.toContain('"accessToken"');
    expect(await vault.read(ref)).toEqual(tokens);
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
