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
import type { JWTPayload } from 'jose';
import type { ParLoginContext } from '../context.js';
import { ParLoginError, storeUnavailable } from '../errors.js';
import { ID_TOKEN_ALGORITHMS } from '../client/id-token.js';
import { JwtRejected, verifyJwt } from '../client/jwt.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MAX_BODY_BYTES = 64 * 1024;
/** Logout tokens older than this (seconds, by `iat`) are refused. */
const MAX_TOKEN_AGE = 300;

/** The claims of a valid logout token that select sessions. */
export interface LogoutSelector {
  readonly sid?: string;
  readonly sub?: string;
}

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
 * Validate a logout token (§2.6) and record its `jti`.
 *
 * @throws {ParLoginError} `logout_token_invalid`; `jwks_error` or a transport code when the AS's keys cannot be had.
 */
export async function validateLogoutToken(ctx: ParLoginContext, token: string): Promise<LogoutSelector> {
  const { config } = ctx;
  let payload: JWTPayload;
  try {
    payload = await verifyJwt(token, ctx.jwks, {
      issuer: config.issuer,
      audience: config.clientId,
      typ: 'logout+jwt',
      algorithms: ID_TOKEN_ALGORITHMS,
      clockTolerance: config.clockTolerance,
      maxTokenAge: MAX_TOKEN_AGE + config.clockTolerance,
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'events'],
    });
  } catch (err) {
    if (err instanceof JwtRejected) throw invalid(err.message, err);
    throw err;
  }
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events !== null && typeof events === 'object' ? events[EVENT] : undefined;
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    throw invalid('it does not carry the back-channel logout event');
  if (payload.nonce !== undefined) throw invalid('it has a nonce (it could be an ID token)');
  const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  if (sid === undefined && sub === undefined) throw invalid('it names neither a sid nor a sub');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw invalid('its jti is not a string');
  const remember = Math.max(
    1,
    (payload.exp ?? 0) - Math.floor(Date.now() / 1000) + config.clockTolerance,
    MAX_TOKEN_AGE,
  );
  if (!(await ctx.shared.firstUse(`bcl:jti:${payload.jti}`, remember)))
    throw invalid('it was used before (replay)');
  return { ...(sid ? { sid } : {}), ...(sub ? { sub } : {}) };
}

/** Build the POST /backchannel-logout handler. */
export function backchannelLogoutRoute(ctx: ParLoginContext) {
  return async function backchannelLogout(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const selector = await validateLogoutToken(ctx, await readLogoutToken(req));
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
