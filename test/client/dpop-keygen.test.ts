/**
 * A new DPoP key per login (`dpop: 'session'`) must never hang the process. On Node 20, exporting a
 * key that `generateKeyPairSync` made as a JWK deadlocked when a garbage collection during the
 * export destroyed the generation's job (the bench's DPoP login start stopped answering). The keys
 * are made in a child process with a deadline, under the allocation pressure of a busy app, so that
 * a deadlock fails this test instead of stopping the test run.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

const DPOP = new URL('../../src/client/dpop.ts', import.meta.url).href;
const KEYS = 20_000;

const script = `
import { generateDpopKey, newExportedDpopKey } from ${JSON.stringify(DPOP)};
const kept = [];
for (let i = 0; i < ${KEYS}; i += 1) {
  const key = await generateDpopKey();
  kept.push(JSON.stringify(key.privateKey.export({ format: 'jwk' })).repeat(4)); // garbage, as a busy app makes
  kept.push(newExportedDpopKey().exported); // a login's key (dpop: 'session')
  if (kept.length > 2000) kept.length = 0;
}
console.log('made ${KEYS} keys');
`;

describe('generateDpopKey', () => {
  it(`makes ${KEYS} keys in a row, each exported, without hanging`, () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 45_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(child.signal).toBeNull(); // SIGTERM at the deadline: the process hung
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe(`made ${KEYS} keys`);
  }, 60_000);
});
