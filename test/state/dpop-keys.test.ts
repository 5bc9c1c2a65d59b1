/** Which DPoP key a login's tokens are bound to (RFC 9449), decided in one place: state/dpop-keys.ts. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createSealer } from '../../src/crypto/seal.js';
import { createDpopKeys } from '../../src/state/dpop-keys.js';

const sealer = createSealer([randomBytes(32)]);

describe('createDpopKeys', () => {
  it('gives no key when DPoP is off', async () => {
    const keys = createDpopKeys('off', sealer);
    await expect(keys.forLogin()).resolves.toBeUndefined();
    await expect(keys.open(undefined)).resolves.toBeUndefined();
  });

  it("binds every login to the instance's one key, which is never stored", async () => {
    const keys = createDpopKeys('instance', sealer);
    const first = await keys.forLogin();
    const second = await keys.forLogin();
    expect(first?.sealed).toBeUndefined();
    expect(second?.jkt).toBe(first?.jkt);
    expect((await keys.open(undefined))?.jkt).toBe(first?.jkt);
  });

  it('gives each login a key of its own, sealed, that open() gives back', async () => {
    const keys = createDpopKeys('session', sealer);
    const first = await keys.forLogin();
    const second = await keys.forLogin();
    expect(first?.sealed).toEqual(expect.any(String));
    expect(second?.jkt).not.toBe(first?.jkt);
    expect((await keys.open(first?.sealed))?.jkt).toBe(first?.jkt);
    await expect(keys.open(undefined)).resolves.toBeUndefined();
  });

  it('gives no key for a sealed key that no configured encryption key opens', async () => {
    const sealed = (await createDpopKeys('session', createSealer([randomBytes(32)])).forLogin())?.sealed;
    await expect(createDpopKeys('session', sealer).open(sealed)).resolves.toBeUndefined();
  });
});
