/**
 * The app's `afterCallback` hook: the one place a valid login meets the app's own rules before its
 * session is written (provision an account, add the app's claims, refuse a user).
 *
 * What the hook returns becomes the session's claims, except the ID token's protocol claims (OIDC
 * Core §2), which are always the validated token's: `sub` and `sid` name the user to back-channel
 * logout and to userinfo's `sub` check, `acr`/`auth_time` are what step-up and `max_age` compare
 * against, so an app cannot change who logged in or how.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDToken
 * @module
 */
import type { Request } from 'express';
import { PROTOCOL_CLAIMS, type UserClaims } from '../config/claims.js';
import type { AfterCallback, CallbackTokens } from '../config/options.js';
import { ParLoginError } from '../errors.js';

/**
 * Run the hook, when there is one, and say which claims the session is to hold.
 *
 * @throws {ParLoginError} the hook's own (e.g. `login_refused`), or `after_callback_failed` for
 *   any other failure and for a result that is not an object of claims.
 */
export async function runAfterCallback(
  hook: AfterCallback | undefined,
  req: Request,
  claims: UserClaims,
  tokens: CallbackTokens,
): Promise<UserClaims> {
  if (hook === undefined) return claims;
  let result: unknown;
  try {
    // A copy: a hook that changes the object it was given and returns nothing changes nothing.
    result = await hook(req, structuredClone(claims), publicTokens(tokens));
  } catch (err) {
    if (err instanceof ParLoginError) throw err;
    throw new ParLoginError('after_callback_failed', 'The sign-in could not be completed by this app.', {
      cause: err,
      hint: 'The afterCallback hook threw: see the cause in this record.',
    });
  }
  if (result === undefined) return claims;
  if (!isPlainObject(result)) {
    throw new ParLoginError('after_callback_failed', 'The sign-in could not be completed by this app.', {
      hint: `The afterCallback hook returned ${describe(result)}: return the claims object, or nothing.`,
    });
  }
  const kept: Record<string, unknown> = { ...result };
  for (const name of PROTOCOL_CLAIMS) {
    if (claims[name] === undefined) delete kept[name];
    else kept[name] = claims[name];
  }
  return kept as UserClaims;
}

/** Only the tokens' public fields: nothing the hook keeps a reference to reaches the vault. */
function publicTokens(tokens: CallbackTokens): CallbackTokens {
  const { accessToken, tokenType, idToken, refreshToken, expiresAtSeconds, scope } = tokens;
  return Object.freeze({
    accessToken,
    tokenType,
    idToken,
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(expiresAtSeconds !== undefined ? { expiresAtSeconds } : {}),
    ...(scope !== undefined ? { scope } : {}),
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** What the hook returned, named without quoting it (it may hold personal data). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'non-plain'} object`;
  return `a ${typeof value}`;
}
