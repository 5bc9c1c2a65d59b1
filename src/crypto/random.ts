/**
 * Random values for the hot paths (state, nonce, PKCE verifier, binding secrets, session ids,
 * token references, `jti`s), drawn from `node:crypto`'s CSPRNG in blocks: each `randomBytes()` call
 * costs about as much as drawing a few kilobytes, and a login start needs several small values. Every
 * byte is handed out once. Like Node's own cache behind `crypto.randomUUID()`, the block is shared
 * by the process; it holds no data of any instance.
 *
 * @module
 */
import { randomFillSync } from 'node:crypto';

const BLOCK_BYTES = 4096;
const block = Buffer.alloc(BLOCK_BYTES);
let used = BLOCK_BYTES;

/** `bytes` fresh random bytes (at most 4096), as a buffer of their own. */
export function randomBuffer(bytes: number): Buffer {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > BLOCK_BYTES) {
    throw Object.assign(new RangeError(`randomBuffer: bytes must be an integer from 1 to ${BLOCK_BYTES}`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  }
  if (used + bytes > BLOCK_BYTES) {
    randomFillSync(block);
    used = 0;
  }
  const out = Buffer.from(block.subarray(used, used + bytes));
  block.fill(0, used, used + bytes); // handed out: not kept in the block
  used += bytes;
  return out;
}

/** `bytes` fresh random bytes, base64url (RFC 4648 §5) without padding. */
export function randomToken(bytes: number): string {
  return randomBuffer(bytes).toString('base64url');
}
