/**
 * Read what a middleware keeps server-side, for assertions: a session user's tokens in its vault.
 *
 * @module
 */
import type { ParLoginContext } from '../../src/context.js';
import type { ParLoginMiddleware, TokenSet } from '../../src/index.js';
import { INTERNAL_CONTEXT } from '../../src/par-login.js';
import type { SessionUser } from '../../src/session/session.js';

/** The context of a middleware. */
export function contextOf(middleware: ParLoginMiddleware): ParLoginContext {
  return (middleware as unknown as Record<symbol, ParLoginContext>)[INTERNAL_CONTEXT]!;
}

/** The tokens of each user (users whose record is gone are left out). */
export async function tokensOf(
  middleware: ParLoginMiddleware,
  users: readonly SessionUser[],
): Promise<TokenSet[]> {
  const found = await Promise.all(users.map((user) => contextOf(middleware).vault.read(user.tokenRef)));
  return found.filter((tokens): tokens is TokenSet => tokens !== undefined);
}
