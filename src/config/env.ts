/**
 * The only reader of environment variables. `configFromEnv` maps them to {@link ParLoginOptions},
 * each parsed as its kind in the option table (option-table.ts) says; validation happens once, in
 * {@link resolveConfig}, which names the variable in every problem.
 *
 * @module
 */
import { namespaceEnabled } from '../observability/debug.js';
import { OPTION_TABLE, optionSpec, type OptionKind, type OptionName } from './option-table.js';
import type { ParLoginOptions } from './options.js';

type Table = typeof OPTION_TABLE;
/**
 * `{ option: 'VARIABLE' }` for every option of the table that has a variable.
 * @inline
 */
type EnvNames = {
  readonly [K in OptionName as Table[K] extends { readonly env: string } ? K : never]: Table[K] extends {
    readonly env: infer Name;
  }
    ? Name
    : never;
};

/** The environment variable behind each option that has one (from the option table). */
export const ENV_NAMES: EnvNames = Object.freeze(
  Object.fromEntries(
    Object.entries(OPTION_TABLE).flatMap(([option, spec]) => ('env' in spec ? [[option, spec.env]] : [])),
  ),
) as EnvNames;

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
};

/** A set variable's value as an option of `kind`; `raw` is not empty. What does not parse is passed on as text. */
function parse(kind: OptionKind, raw: string): unknown {
  const value = raw.trim();
  switch (kind.type) {
    case 'secret':
      return raw;
    case 'integer':
      return /^\d+$/.test(value) ? Number(value) : value;
    case 'boolean':
      return BOOLEANS[value.toLowerCase()] ?? value;
    case 'list':
      return value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    case 'params':
      return Object.fromEntries(new URLSearchParams(value));
    default:
      return value;
  }
}

/**
 * Read the configuration from environment variables. Empty variables count as unset. Numbers are
 * parsed here; a value that is not a number is passed on as text so that validation can report it.
 * Never throws: {@link parLogin} validates the result together with explicit options.
 *
 * @param env The environment to read. @default process.env
 * @returns The options the environment sets.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ParLoginOptions {
  const options: Record<string, unknown> = {};
  for (const [option, spec] of Object.entries(OPTION_TABLE)) {
    if (!('env' in spec)) continue;
    if (spec.type === 'debug') {
      if (namespaceEnabled(env[spec.env], env[spec.alsoEnv])) options[option] = true;
      continue;
    }
    const raw = env[spec.env];
    if (raw !== undefined && raw.trim() !== '') options[option] = parse(spec, raw);
  }
  return options;
}

/** `optionName (ENV_NAME)`, for problem sentences. */
export function describeOption(option: string): string {
  const spec = optionSpec(option);
  return spec?.env ? `${option} (${spec.env})` : option;
}
