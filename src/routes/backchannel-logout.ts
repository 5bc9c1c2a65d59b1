/**
 * POST /backchannel-logout: the AS ends sessions directly (OpenID Connect Back-Channel Logout 1.0).
 *
 * The logout token is validated as §2.6 requires: signed by the AS with an asymmetric algorithm
 * (the ID token's rules), explicitly typed `logout+jwt` (§2.4), `iss`, `aud`, `iat`, `exp`, `jti`,
 * the back-channel logout event (§2.4), `sid` and/or `sub`, no `nonce`, and a `jti` not seen
 * before (replays are refused across instances). The sessions it names are found through the
 * shared index and destroyed in the session store, with their token records, on every instance.
 * Answers 200 with `Cache-Control: no-store` (§2.8), or 400 with a coded error.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { ParLoginContext } from '../context.js';
import { ParLoginError, storeUnavailable } from '../errors.js';
import { JwtRejected } from '../client/jwt.js';
import { verifyLogoutToken, type LogoutSelector } from '../client/logout-token.js';

const MAX_BODY_BYTES = 64 * 1024;
/** Logout tokens older than this (by `iat`) are refused. */
const MAX_TOKEN_AGE_SECONDS = 300;

function invalid(reason: string, cause?: unknown): ParLoginError {
  return new ParLoginError(
    'logout_token_invalid',
    `The logout token is invalid: ${reason}.`,
    cause === undefined ? {} : { cause },
  );
}

/** Read `logout_token` from a form body (at most 64 KiB), whether or not a body parser ran. */
async function readLogoutToken(req: Request): Promise<string> {
  const parsed = (req.body as Record<string, unknown> | undefined)?.logout_token;
  if (typeof parsed === 'string') return parsed;
  if (
    !String(req.headers['content-type'] ?? '')
      .toLowerCase()
      .startsWith('application/x-www-form-urlencoded')
  ) {
    throw invalid('the request is not a form (application/x-www-form-urlencoded)');
  }
  if (req.readableEnded) throw invalid('the request has no logout_token');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw invalid('the request body is too large');
    chunks.push(chunk);
  }
  const values = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).getAll('logout_token');
  if (values.length !== 1 || values[0] === '')
    throw invalid('the request must have exactly one logout_token');
  return values[0]!;
}

/**
 * Validate a logout token (§2.6) and record its `jti`, so that a replay is refused on every
 * instance.
 *
 * @throws {ParLoginError} `logout_token_invalid`; `jwks_error` or a transport code when the AS's keys cannot be had.
 */
async function acceptLogoutToken(ctx: ParLoginContext, token: string): Promise<LogoutSelector> {
  const { config } = ctx;
  const verified = await verifyLogoutToken(token, ctx.jwks, {
    issuer: config.issuer,
    clientId: config.clientId,
    clockToleranceSeconds: config.clockToleranceSeconds,
    maxTokenAgeSeconds: MAX_TOKEN_AGE_SECONDS,
    // The profile's algorithms (under fapi2 PS256, ES256, EdDSA: FAPI 2.0 §5.4.1), as for ID tokens.
    algorithms: config.idTokenAlgorithms,
    nowSeconds: ctx.clock.nowSeconds(),
  }).catch((err: unknown) => {
    throw err instanceof JwtRejected ? invalid(err.message, err) : err;
  });
  if (!(await ctx.shared.firstUse(`bcl:jti:${verified.jti}`, verified.rememberSeconds)))
    throw invalid('it was used before (replay)');
  return verified.selector;
}

/** Build the POST /backchannel-logout handler. */
export function backchannelLogoutRoute(ctx: ParLoginContext) {
  return async function backchannelLogout(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const selector = await acceptLogoutToken(ctx, await readLogoutToken(req));
    // A sid names one AS session: end only its sessions here; a sub alone ends all of the user's (§2.7).
    const sessions = await ctx.sessionIndex.take(
      selector.sid !== undefined ? { sid: selector.sid } : { sub: selector.sub! },
    );
    const store = req.sessionStore;
    await Promise.all(
      sessions.map(async (session) => {
        await ctx.vault.remove(session.tokenRef);
        if (store === undefined) return;
        await new Promise<void>((resolve, reject) =>
          store.destroy(session.sessionId, (err?: unknown) =>
            err ? reject(storeUnavailable('destroy', err)) : resolve(),
          ),
        );
      }),
    );
    ctx.config.trace.step('backchannel_logout', {
      by: selector.sid !== undefined ? 'sid' : 'sub',
      sessions: sessions.length,
    });
    res.status(200).end();
  };
}
