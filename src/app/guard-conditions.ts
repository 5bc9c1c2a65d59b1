/**
 * What `requireLogin()` may ask of a logged-in user beyond the login itself: claims of given
 * values or a check of the app's (answered `403 forbidden` when not met), and a step-up: an
 * authentication context class among `acrValues` and an authentication no older than `maxAge`
 * seconds (answered with a new login that asks for them, OIDC Core §3.1.2.1).
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 * @module
 */
import type { Request } from 'express';
import type { UserClaims } from '../config/claims.js';
import { invalidArgument } from '../errors.js';
import type { RequestAuth } from './request-auth.js';

/** A claim's required value: equal to it (or contained in an array claim), or a test of the value. */
export type ClaimCondition = string | number | boolean | ((value: unknown) => boolean);

/** The conditions of one guard, validated once. */
export interface GuardConditions {
  /** Whether the user qualifies (claims, then check). */
  qualifies(auth: RequestAuth, req: Request): Promise<boolean> | boolean;
  /** The login options of a step-up the session needs, or `undefined` when it satisfies them. */
  stepUp(claims: UserClaims | undefined, nowSeconds: number): StepUp | undefined;
}

/**
 * The login options of a step-up: `prompt=login` (the user authenticates again rather than riding
 * the AS's existing session, whose level is the one found wanting), the `acr` asked for as an
 * essential claim with its values (OIDC Core §5.5.1.1: the AS must then authenticate the user at
 * one of them, or fail; `acr_values` alone is a wish it may ignore), and `max_age`.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#acrSemantics
 */
export interface StepUp {
  readonly prompt: 'login';
  readonly acrValues?: string[];
  readonly claims?: { id_token: { acr: { essential: true; values: string[] } } };
  readonly maxAge?: number;
}

/** The options the conditions come from. */
export interface ConditionOptions {
  claims?: Readonly<Record<string, ClaimCondition>>;
  check?: (auth: RequestAuth, req: Request) => boolean | Promise<boolean>;
  acrValues?: string | readonly string[];
  maxAge?: number;
}

function meets(value: unknown, condition: ClaimCondition): boolean {
  if (typeof condition === 'function') return condition(value);
  return Array.isArray(value) ? value.includes(condition) : value === condition;
}

/**
 * Build the conditions of `requireLogin(options)`, or `undefined` when there are none.
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a malformed option.
 */
export function guardConditions(options: ConditionOptions): GuardConditions | undefined {
  const { claims, check, maxAge } = options;
  if (claims !== undefined && (claims === null || typeof claims !== 'object'))
    throw invalidArgument('requireLogin: claims must be an object of claim names to values or tests');
  if (check !== undefined && typeof check !== 'function')
    throw invalidArgument('requireLogin: check must be a function');
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 0))
    throw invalidArgument('requireLogin: maxAge must be a whole number of seconds');
  const acr =
    options.acrValues === undefined
      ? undefined
      : typeof options.acrValues === 'string'
        ? options.acrValues.split(' ').filter(Boolean)
        : [...options.acrValues];
  if (
    acr !== undefined &&
    (acr.length === 0 || acr.some((value) => typeof value !== 'string' || value === ''))
  )
    throw invalidArgument('requireLogin: acrValues must name at least one authentication context class');
  if (claims === undefined && check === undefined && acr === undefined && maxAge === undefined)
    return undefined;
  const required = Object.entries(claims ?? {});
  return {
    qualifies(auth, req) {
      const user = auth.claims;
      if (!required.every(([name, condition]) => meets(user?.[name], condition))) return false;
      return check === undefined ? true : check(auth, req);
    },
    stepUp(user, nowSeconds) {
      const acrMissing = acr !== undefined && !(typeof user?.acr === 'string' && acr.includes(user.acr));
      const tooOld =
        maxAge !== undefined && (typeof user?.auth_time !== 'number' || nowSeconds - user.auth_time > maxAge);
      if (!acrMissing && !tooOld) return undefined;
      return {
        prompt: 'login',
        ...(acr !== undefined
          ? { acrValues: acr, claims: { id_token: { acr: { essential: true, values: acr } } } }
          : {}),
        ...(maxAge !== undefined ? { maxAge } : {}),
      };
    },
  };
}
