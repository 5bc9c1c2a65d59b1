/**
 * Checks of single options for {@link resolveConfig}. Each reports what is wrong through `problem`
 * (which names the option and its variable) and returns the value to go on with. Defaults, ranges
 * and choices come from the option table; secrets are never quoted.
 *
 * @module
 */
import { isHttpsOrLoopback } from './loopback.js';
import { OPTION_TABLE, type OptionOfType } from './option-table.js';
import type { ParLoginOptions } from './options.js';

/** Reports one problem of `option`: `text` completes the sentence `option (VARIABLE) …`. */
export type Problem = (option: string, text: string) => void;

const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/** A value as a problem quotes it: a primitive as text, an array item by item, anything else by its type. */
export function shown(value: unknown): string {
  if (Array.isArray(value)) return value.map(shown).join(',');
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/** `"a", "b" or "c"`; with more than three, `one of a, b, c, d`. */
function choices(values: readonly string[]): string {
  if (values.length > 3) return `one of ${values.join(', ')}`;
  const quoted = values.map((value) => `"${value}"`);
  return `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

/** An integer option within its range; the table's default when unset or wrong. */
export function integerOption(
  options: ParLoginOptions,
  name: OptionOfType<'integer'>,
  problem: Problem,
): number {
  const { min, max, default: fallback } = OPTION_TABLE[name];
  const value: unknown = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problem(name, `must be an integer from ${min} to ${max} (got "${shown(value)}")`);
    return fallback;
  }
  return value;
}

/** A boolean option; the table's default when unset or wrong. */
export function booleanOption(
  options: ParLoginOptions,
  name: OptionOfType<'boolean'>,
  problem: Problem,
): boolean {
  const fallback = OPTION_TABLE[name].default;
  const value: unknown = options[name] ?? fallback;
  if (typeof value === 'boolean') return value;
  problem(name, `must be true or false (got "${shown(value)}")`);
  return fallback;
}

/**
 * An option with a fixed set of values: the option, else `fallback` (for a derived default), else
 * the table's default. A value outside the set is reported and returned as given.
 */
export function enumOption<K extends OptionOfType<'enum'>>(
  options: ParLoginOptions,
  name: K,
  problem: Problem,
  fallback?: NonNullable<ParLoginOptions[K]>,
): NonNullable<ParLoginOptions[K]> {
  const spec = OPTION_TABLE[name];
  const value = options[name] ?? fallback ?? ('default' in spec ? spec.default : undefined);
  if (!(spec.values as readonly unknown[]).includes(value))
    problem(name, `must be ${choices(spec.values)} (got "${shown(value)}")`);
  return value as NonNullable<ParLoginOptions[K]>;
}

/** The items of a list option that are not among its values (reported). */
export function checkListValues(
  value: readonly unknown[],
  name: 'frontChannelParams',
  problem: Problem,
): void {
  const allowed: readonly unknown[] = OPTION_TABLE[name].values;
  const unknown = value.filter((item) => !allowed.includes(item));
  if (unknown.length > 0) problem(name, `may hold only ${allowed.join(', ')} (got "${unknown.join(', ')}")`);
}

/** A route path; the table's default when unset or wrong. */
export function pathOption(options: ParLoginOptions, name: OptionOfType<'path'>, problem: Problem): string {
  const fallback = OPTION_TABLE[name].default;
  const value: unknown = options[name];
  if (value === undefined) return fallback;
  if (
    typeof value !== 'string' ||
    !PATH.test(value) ||
    value.startsWith('//') ||
    (value.length > 1 && value.endsWith('/'))
  ) {
    problem(name, `must be a path like "${fallback}" (got "${shown(value)}")`);
    return fallback;
  }
  return value;
}

/** A text option that is unset or a string; anything else is reported (never quoted) and dropped. */
export function stringOption(
  options: ParLoginOptions,
  name: OptionOfType<'string'>,
  problem: Problem,
): string | undefined {
  const value: unknown = options[name];
  if (value === undefined || typeof value === 'string') return value;
  problem(name, 'must be a string');
  return undefined;
}

/** Whether `value` is a non-empty string. */
export function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** A required text option (reported when missing). */
export function requireString(value: unknown, option: string, problem: Problem): string {
  if (!nonEmpty(value)) problem(option, 'is required');
  return nonEmpty(value) ? value : '';
}

/** An absolute https URL (http on a loopback host), without credentials or fragment (or query, unless kept). */
export function checkUrl(
  value: unknown,
  option: string,
  problem: Problem,
  { keepQuery = false } = {},
): URL | undefined {
  if (!nonEmpty(value)) return void problem(option, 'is required: an absolute https URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void problem(option, `is not an absolute URL (got "${value}")`);
  }
  if (!isHttpsOrLoopback(url)) {
    return void problem(
      option,
      `must use https (http is allowed only on localhost/127.0.0.1/[::1]; got "${value}")`,
    );
  }
  if (url.username || url.password) return void problem(option, 'must not contain credentials');
  if (url.hash || (!keepQuery && url.search))
    return void problem(option, `must not have a query or fragment (got "${value}")`);
  return url;
}

/** A `redis://` or `rediss://` URL, never quoted: it may hold a password. */
export function checkRedisUrl(value: unknown, problem: Problem, option = 'redisUrl'): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(shown(value));
    if (url.protocol === 'redis:' || url.protocol === 'rediss:') return url.href;
  } catch {
    // reported below, without echoing the URL
  }
  problem(option, 'must be a redis:// or rediss:// URL');
  return undefined;
}

/**
 * A list of `redis://` or `rediss://` URLs (an array, or comma-separated text), none quoted; one
 * problem for the first bad one. `undefined` when unset or empty.
 */
export function checkRedisUrls(value: unknown, problem: Problem, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (
    Array.isArray(value) ? (value as unknown[]) : typeof value === 'string' ? value.split(',') : [value]
  )
    .map((item) => (typeof item === 'string' ? item.trim() : item))
    .filter((item) => item !== '');
  if (items.length === 0) return undefined;
  const urls: string[] = [];
  for (const [index, item] of items.entries()) {
    const url = checkRedisUrl(item, () => {}, option);
    if (url === undefined) {
      problem(option, `must be redis:// or rediss:// URLs (item ${index + 1} is not)`);
      return undefined;
    }
    urls.push(url);
  }
  return urls;
}

/** Origins (https, or http on a loopback host; no path, query, fragment or credentials). */
export function checkOrigins(value: unknown, problem: Problem): string[] {
  if (value === undefined) return [];
  const origins: string[] = [];
  for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
    let url: URL | undefined;
    try {
      url = new URL(shown(item));
    } catch {
      // reported below
    }
    if (
      url === undefined ||
      !isHttpsOrLoopback(url) ||
      url.pathname !== '/' ||
      url.search ||
      url.hash ||
      url.username ||
      url.password
    ) {
      problem(
        'redirectOrigins',
        `must be https origins like "https://tenant.example.com" (got "${shown(item)}")`,
      );
    } else {
      origins.push(url.origin);
    }
  }
  return origins;
}
