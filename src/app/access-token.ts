/**
 * `req.auth.accessToken()`: a valid access token for the app's server-side calls, refreshed with the
 * refresh token shortly before it expires (RFC 6749 §6, OIDC Core §12).
 *
 * Refresh is single-flight: concurrent requests of one session share one refresh in this process,
 * and instances sharing Redis take a lock with a lifetime first, then re-read the token record (an
 * instance that waited finds the tokens another one stored). Rotated refresh tokens are stored at
 * once. `invalid_grant` ends the session everywhere: the token record and the session are removed,
 * so the guard asks for a login again.
 *
 * Sender-constrained tokens keep their constraint through refresh: the refresh request goes to the
 * token endpoint's mTLS alias with the client certificate (RFC 8705 §5, §3) and, for DPoP-bound
 * tokens, carries a proof with the session's (or instance's) DPoP key and insists on a DPoP-bound
 * answer (RFC 9449 §5). {@link AccessTokenSource.authorizationHeaders} builds the `Authorization`
 * and `DPoP` headers of a call to a resource server (RFC 9449 §7.1).
 *
 * @module
 */
import type { Request } from 'express';
import type { ParLoginContext } from '../context.js';
import { flowId } from '../observability/debug.js';
import { createDpopProof, type DpopKey } from '../client/dpop.js';
import { ParLoginError } from '../errors.js';
import { validateRefreshedIdToken } from '../client/id-token.js';
import { forgetTokens } from './forget-tokens.js';
import { endpointFor } from '../client/metadata.js';
import { sessionData, sessionUser, type SessionUser } from '../session/session.js';
import { refreshTokens, type TokenSet } from '../client/token.js';

/** Hands out access tokens of the request's session. */
export interface AccessTokenSource {
  /** A valid access token of the request's session, refreshed when needed. */
  accessToken(req: Request): Promise<string>;
  /**
   * The headers that authorize a call to a resource server with the session's access token:
   * `Authorization: Bearer …`, or for a DPoP-bound token `Authorization: DPoP …` with a fresh
   * `DPoP` proof for `method` and `url` carrying `ath` (RFC 9449 §7.1) and the server's `nonce`
   * when given (§9).
   */
  authorizationHeaders(
    req: Request,
    method: string,
    url: string,
    nonce?: string,
  ): Promise<Record<string, string>>;
}

const POLL_MS = 25;

/** Build the source of one instance. */
export function createAccessTokenSource(ctx: ParLoginContext): AccessTokenSource {
  return new SessionTokens(ctx);
}

/** The access tokens of the instance's sessions: single-flight refresh, shared lock, session end. */
class SessionTokens implements AccessTokenSource {
  readonly #ctx: ParLoginContext;
  readonly #inFlight = new Map<string, Promise<TokenSet>>();
  readonly #lockTtlMs: number;

  constructor(ctx: ParLoginContext) {
    this.#ctx = ctx;
    this.#lockTtlMs = ctx.config.httpTimeoutMs * 2 + 1_000;
  }

  async accessToken(req: Request): Promise<string> {
    return (await this.#validTokens(req)).tokens.accessToken;
  }

  async authorizationHeaders(
    req: Request,
    method: string,
    url: string,
    nonce?: string,
  ): Promise<Record<string, string>> {
    const { user, tokens } = await this.#validTokens(req);
    const key = await this.#dpopKeyOf(req, user, tokens);
    if (key === undefined) return { authorization: `Bearer ${tokens.accessToken}` };
    const proof = await createDpopProof(key, {
      htm: method.toUpperCase(),
      htu: url,
      accessToken: tokens.accessToken,
      ...(nonce !== undefined ? { nonce } : {}),
    });
    return { authorization: `DPoP ${tokens.accessToken}`, dpop: proof };
  }

  /** Valid for at least `refreshSkewSeconds` more seconds. */
  #fresh(tokens: TokenSet): boolean {
    const { expiresAtSeconds } = tokens;
    const nowSeconds = this.#ctx.clock.nowMs() / 1000;
    return (
      expiresAtSeconds === undefined || expiresAtSeconds - this.#ctx.config.refreshSkewSeconds > nowSeconds
    );
  }

  /** Refreshed by someone else since `seen` was read, and still valid: use it (even within refreshSkewSeconds). */
  #renewed(tokens: TokenSet, seen: TokenSet): boolean {
    return (
      tokens.accessToken !== seen.accessToken &&
      (tokens.expiresAtSeconds === undefined || tokens.expiresAtSeconds > this.#ctx.clock.nowMs() / 1000)
    );
  }

  async #validTokens(req: Request): Promise<{ user: SessionUser; tokens: TokenSet }> {
    const user = sessionUser(req);
    if (user === undefined) throw new ParLoginError('unauthenticated', 'Not logged in.');
    const tokens = await this.#readOrEnd(req, user);
    if (this.#fresh(tokens)) return { user, tokens };
    let flight = this.#inFlight.get(user.tokenRef);
    if (flight === undefined) {
      flight = this.#refreshShared(req, user, tokens).finally(() => this.#inFlight.delete(user.tokenRef));
      this.#inFlight.set(user.tokenRef, flight);
    }
    return { user, tokens: await flight };
  }

  /** Refresh under the shared lock, or wait for the tokens that the lock's holder stores. */
  async #refreshShared(req: Request, user: SessionUser, seen: TokenSet): Promise<TokenSet> {
    const { clock, shared } = this.#ctx;
    const deadlineMs = clock.nowMs() + this.#lockTtlMs * 2;
    for (;;) {
      const release = await shared.lock(`refresh:${user.tokenRef}`, this.#lockTtlMs);
      if (release !== undefined) {
        try {
          return await this.#refreshHolding(req, user, seen);
        } finally {
          await release();
        }
      }
      // Another request or instance is refreshing: wait for the tokens it stores.
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const current = await this.#readOrEnd(req, user);
      if (this.#fresh(current) || this.#renewed(current, seen)) return current;
      if (clock.nowMs() > deadlineMs)
        throw new ParLoginError('as_timeout', 'Refreshing the access token took too long.');
    }
  }

  async #refreshHolding(req: Request, user: SessionUser, seen: TokenSet): Promise<TokenSet> {
    const { config } = this.#ctx;
    const current = await this.#readOrEnd(req, user); // re-read under the lock: another instance may have refreshed
    if (this.#fresh(current) || this.#renewed(current, seen)) return current;
    if (current.refreshToken === undefined) {
      throw new ParLoginError(
        'login_required',
        'The access token has expired and there is no refresh token.',
        { hint: 'Log in again.' },
      );
    }
    config.trace.step('refresh.start', { flow: flowId(user.tokenRef) });
    const refreshed = await this.#refresh(req, user, current);
    if (refreshed.idToken !== current.idToken) {
      const expected = {
        issuer: config.issuer,
        clientId: config.clientId,
        clockToleranceSeconds: config.clockToleranceSeconds,
        algorithms: config.idTokenAlgorithms,
      };
      await validateRefreshedIdToken(refreshed.idToken, this.#ctx.jwks, expected, user.claims);
    }
    const lifetimeSeconds =
      user.loggedInAt + config.sessionAbsoluteTimeoutSeconds - this.#ctx.clock.nowSeconds();
    await this.#ctx.vault.write(user.tokenRef, refreshed, Math.max(1, lifetimeSeconds));
    config.trace.step('refresh.done', {
      flow: flowId(user.tokenRef),
      rotated: refreshed.refreshToken !== current.refreshToken,
      expires_at: refreshed.expiresAtSeconds,
    });
    return refreshed;
  }

  /** The refresh request itself (RFC 6749 §6); `invalid_grant` ends the session everywhere. */
  async #refresh(req: Request, user: SessionUser, current: TokenSet): Promise<TokenSet> {
    const { config } = this.#ctx;
    const metadata = await this.#ctx.metadata.get();
    const dpopKey = await this.#dpopKeyOf(req, user, current);
    try {
      return await refreshTokens(
        this.#ctx.http,
        this.#ctx.clientAuth,
        endpointFor(metadata, 'token_endpoint', config.useMtls),
        current,
        config.clientId,
        dpopKey ? { dpopKey, requireDpopBinding: true } : {},
      );
    } catch (err) {
      config.trace.step('refresh.failed', {
        flow: flowId(user.tokenRef),
        error: err instanceof ParLoginError ? err.code : 'internal',
      });
      if (!(err instanceof ParLoginError) || err.asError !== 'invalid_grant') throw err;
      await this.#endSession(req, user);
      throw new ParLoginError('login_required', 'The session has ended at the authorization server.', {
        hint: 'Log in again.',
        cause: err,
      });
    }
  }

  async #readOrEnd(req: Request, user: SessionUser): Promise<TokenSet> {
    const tokens = await this.#ctx.vault.read(user.tokenRef);
    if (tokens !== undefined) return tokens;
    // Gone: logged out elsewhere (back-channel logout, invalid_grant on another instance) or expired.
    await this.#endSession(req, user);
    throw new ParLoginError('login_required', 'The session has ended.', { hint: 'Log in again.' });
  }

  /**
   * The DPoP key of DPoP-bound tokens; `undefined` for Bearer tokens. A key no configured key
   * opens ends the session.
   */
  async #dpopKeyOf(req: Request, user: SessionUser, tokens: TokenSet): Promise<DpopKey | undefined> {
    if (tokens.tokenType.toLowerCase() !== 'dpop') return undefined;
    const key = await this.#ctx.dpopKeys.open(user.sealedDpopKey);
    if (key !== undefined) return key;
    await this.#endSession(req, user);
    throw new ParLoginError(
      'login_required',
      'The DPoP key of the session can no longer be opened (SESSION_ENCRYPTION_KEY rotated away).',
      { hint: 'Log in again.' },
    );
  }

  async #endSession(req: Request, user: SessionUser): Promise<void> {
    if (sessionUser(req)?.tokenRef === user.tokenRef) delete sessionData(req)!.user;
    await forgetTokens(this.#ctx, user, req.sessionID);
    await new Promise<void>((resolve) => {
      if (req.sessionStore === undefined || req.sessionID === undefined) return resolve();
      req.sessionStore.destroy(req.sessionID, () => resolve()); // the other requests of this session find nothing
    });
  }
}
