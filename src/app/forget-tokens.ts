/**
 * What ends with a login, beside the session record: its encrypted tokens in the vault and its
 * entries in the back-channel logout index. Called by logout and by the access-token source when
 * the AS has ended the login.
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#BCActions
 * @module
 */
import type { ParLoginContext } from '../context.js';
import type { SessionUser } from '../session/session.js';

/** Remove a session's token record and its back-channel logout index entries. */
export async function forgetTokens(
  ctx: ParLoginContext,
  user: SessionUser,
  sessionId: string,
): Promise<void> {
  await Promise.all([
    ctx.vault.remove(user.tokenRef),
    ctx.sessionIndex.remove(user.claims, { sessionId, tokenRef: user.tokenRef }),
  ]);
}
