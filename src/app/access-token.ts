/**
 * `req.auth.accessToken()`: a valid access token for the app's server-side calls, refreshed with the
 * refresh token shortly before it expires (RFC 6749 §6, OIDC Core §12).
 *
 * Refresh is single-flight: concurrent requests of one session share one refresh in this process,
 * and instances sharing Redis take a lock with a lifetime first, then re-read the token record (an
 * instance that waited finds the tokens another one stored). The holder renews the lock every third
 * of its lifetime while it refreshes (a refresh may take several back-channel calls, each up to
 * `httpTimeoutMs`: discovery, the token request and its DPoP-nonce retry, a JWKS refetch), so no
 * other instance spends the same refresh token meanwhile; with refresh-token rotation and reuse
 * detection at the AS that would end the session. Rotated refresh tokens are stored at once.
 * `invalid_grant` ends the session everywhere: the token record and the session are removed, so the
 * guard asks for a login again.
 *
 * The lock can still be lost (the process stalled past its lifetime, the store failed to renew it).
 * So the refreshed tokens are stored only if the record is still the one the refresh started from:
 * a compare-and-set on the record's one key (`TokenVault.replace`), not a check of the lock
 * key, so no script touches two keys (Redis Cluster needs every key of a script in one hash slot)
 * and the condition is the one that matters: nobody wrote the record since we read it (another
 * instance's refresh, or a logout that removed it). A refused write keeps what the other writer
 * stored, and the request uses those tokens.
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
import { fetchUserinfo } from '../client/userinfo.js';
import { emit } from '../observability/log.js';
import type { HeldLock } from '../state/shared-state.js';
import type { VaultRecord } from '../state/token-vault.js';

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
  /**
   * The userinfo endpoint's claims for the session's user, fetched now with a valid access token
   * (OIDC Core §5.3); the response's `sub` must be the session's.
   */
  userinfo(req: Request): Promise<Record<string, unknown>>;
}

const POLL_MS = 25;

/** Tuning of {@link createAccessTokenSource}; the defaults suit every deployment. */
export interface AccessTokenSourceOptions {
  /**
   * Lifetime of the shared refresh lock, renewed every third of it while the refresh runs: how
   * long a crashed holder keeps other instances from refreshing that session.
   * @default httpTimeoutMs * 2 + 1000
   */
  readonly lockTtlMs?: number;
}

/** Build the source of one instance. */
export function createAccessTokenSource(
  ctx: ParLoginContext,
  options: AccessTokenSourceOptions = {},
): AccessTokenSource {
  return new SessionTokens(ctx, options);
}

/** The access tokens of the instance's sessions: single-flight refresh, shared lock, session end. */
class SessionTokens implements AccessTokenSource {
  readonly #ctx: ParLoginContext;
  readonly #inFlight = new Map<string, Promise<TokenSet>>();
  readonly #lockTtlMs: number;
  /** How long a request waits for another's refresh: its longest run (4 calls), plus a crashed holder's lock. */
  readonly #waitMs: number;

  constructor(ctx: ParLoginContext, options: AccessTokenSourceOptions) {
    this.#ctx = ctx;
    this.#lockTtlMs = options.lockTtlMs ?? ctx.config.httpTimeoutMs * 2 + 1_000;
    this.#waitMs = ctx.config.httpTimeoutMs * 4 + this.#lockTtlMs;
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

  async userinfo(req: Request): Promise<Record<string, unknown>> {
    const { user, tokens } = await this.#validTokens(req);
    const { config, metadata, http } = this.#ctx;
    const endpoint = endpointFor(await metadata.get(), 'userinfo_endpoint', config.useMtls);
    if (endpoint === undefined)
      throw new ParLoginError('userinfo_error', 'The AS publishes no userinfo_endpoint in its metadata.');
    return fetchUserinfo(http, endpoint, tokens, user.claims.sub, await this.#dpopKeyOf(req, user, tokens));
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
    const deadlineMs = clock.nowMs() + this.#waitMs;
    for (;;) {
      const lock = await shared.lock(`refresh:${user.tokenRef}`, this.#lockTtlMs);
      if (lock !== undefined) {
        try {
          return await this.#refreshHolding(req, user, seen, lock);
        } finally {
          await lock.release();
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

  async #refreshHolding(req: Request, user: SessionUser, seen: TokenSet, lock: HeldLock): Promise<TokenSet> {
    const { config } = this.#ctx;
    const record = await this.#readRecordOrEnd(req, user); // re-read under the lock: another may have refreshed
    const current = record.tokens;
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
    await this.#checkIdToken(refreshed, current, user);
    if (!lock.held) this.#warnLockLost(user);
    const lifetimeSeconds =
      user.loggedInAt + config.sessionAbsoluteTimeoutSeconds - this.#ctx.clock.nowSeconds();
    const stored = await this.#ctx.vault.replace(
      user.tokenRef,
      record,
      refreshed,
      Math.max(1, lifetimeSeconds),
    );
    config.trace.step('refresh.done', {
      flow: flowId(user.tokenRef),
      rotated: refreshed.refreshToken !== current.refreshToken,
      expires_at: refreshed.expiresAtSeconds,
      stored,
    });
    return stored ? refreshed : this.#superseded(req, user, current, refreshed);
  }

  /** A new ID token from a refresh must match the login's (OIDC Core §12.2). */
  async #checkIdToken(refreshed: TokenSet, current: TokenSet, user: SessionUser): Promise<void> {
    if (refreshed.idToken === current.idToken) return;
    const { config } = this.#ctx;
    const expected = {
      issuer: config.issuer,
      clientId: config.clientId,
      clockToleranceSeconds: config.clockToleranceSeconds,
      algorithms: config.idTokenAlgorithms,
    };
    await validateRefreshedIdToken(refreshed.idToken, this.#ctx.jwks, expected, user.claims);
  }

  /**
   * The record changed while we refreshed, so our write was refused: another instance took the
   * lapsed lock and stored its refresh, or the session was logged out (the record is gone: the
   * session ends here too). Keep what is stored and use it; our tokens serve this request only when
   * the stored ones are no better.
   */
  async #superseded(
    req: Request,
    user: SessionUser,
    current: TokenSet,
    refreshed: TokenSet,
  ): Promise<TokenSet> {
    const stored = await this.#readOrEnd(req, user);
    return this.#fresh(stored) || this.#renewed(stored, current) ? stored : refreshed;
  }

  #warnLockLost(user: SessionUser): void {
    emit(this.#ctx.config.logger, 'warn', {
      msg:
        'The refresh lock lapsed before the refresh ended (the process stalled or the session store ' +
        'was slow to renew it); another instance may have refreshed the same session. Check the ' +
        'event loop and the latency of the session store.',
      flow: flowId(user.tokenRef),
    });
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
    return (await this.#readRecordOrEnd(req, user)).tokens;
  }

  async #readRecordOrEnd(req: Request, user: SessionUser): Promise<VaultRecord> {
    const record = await this.#ctx.vault.readRecord(user.tokenRef);
    if (record !== undefined) return record;
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
