/**
 * Read what a middleware keeps server-side, for assertions: a session user's tokens in its vault.
 *
 * @module
 */
import type { ParLoginContext } from '../../src/context.js';
import type { ParLoginMiddleware, TokenSet } from '../../src/index.js';
import { INTERNAL_CONTEXT } from '../../src/par-login.js';
import type { SessionUser } from '../../src/session/session.js';
import { restoredIdToken } from '../../src/state/kept-id-token.js';

/** The context of a middleware. */
export function contextOf(middleware: ParLoginMiddleware): ParLoginContext {
  return (middleware as unknown as Record<symbol, ParLoginContext>)[INTERNAL_CONTEXT]!;
}

/**
 * The tokens of each user (users whose record is gone are left out), with the ID token the AS issued
 * (the vault keeps it without the payload the user's claims repeat: state/kept-id-token.ts).
 */
export async function tokensOf(
  middleware: ParLoginMiddleware,
  users: readonly SessionUser[],
): Promise<TokenSet[]> {
  const found = await Promise.all(
    users.map(async (user) => {
      const tokens = await contextOf(middleware).vault.read(user.tokenRef);
      const idToken = tokens && restoredIdToken(tokens.idToken, user.claims);
      return tokens && idToken !== undefined ? { ...tokens, idToken } : undefined;
    }),
  );
  return found.filter((tokens): tokens is TokenSet => tokens !== undefined);
}
