/**
 * The option table (src/config/option-table.ts) against everything that repeats it: `ENV_NAMES` and
 * `configFromEnv`, the resolver's defaults, ranges and choices, the options' TSDoc (options.ts, read
 * with the TypeScript parser) and the README (its configuration table, every other
 * `variable | option | default` table, and the `#### \`VARIABLE\` / \`option\`` sections). Any
 * disagreement fails here, naming the option.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { configFromEnv, describeOption, ENV_NAMES } from '../../src/config/env.js';
import {
  defaultText,
  OPTION_TABLE,
  type OptionName,
  type OptionSpec,
} from '../../src/config/option-table.js';
import type { ParLoginOptions } from '../../src/config/options.js';
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js';
import { deriveKey } from '../../src/crypto/seal.js';
import { ConfigError } from '../../src/errors.js';
import { defaultLogger } from '../../src/observability/log.js';
import { createTestPki } from '../helpers/certs.js';

const ROWS = Object.entries(OPTION_TABLE) as [OptionName, OptionSpec][];
const NAMES = ROWS.map(([name]) => name);
const squash = (text: string): string => text.replace(/\s+/g, ' ').trim();

const SECRET = 's'.repeat(40);
const MINIMAL: ParLoginOptions = {
  issuer: 'https://as.example',
  clientId: 'app',
  clientSecret: 'client-secret',
  baseUrl: 'https://app.example',
  sessionSecret: SECRET,
};
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;
const pki = createTestPki();
afterAll(() => pki.remove());

function problemsOf(options: ParLoginOptions): readonly string[] {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

// --- options.ts, through the TypeScript parser ------------------------------------------------

interface OptionDoc {
  /** The comment's text, tags excluded, whitespace squashed. */
  readonly summary: string;
  /** The text of each `@default` tag, whitespace squashed. */
  readonly defaults: readonly string[];
  /** How often `@default` occurs in the comment's source (a tag the parser missed would differ). */
  readonly defaultMentions: number;
}

function optionDocs(): Map<string, OptionDoc> {
  const path = new URL('../../src/config/options.ts', import.meta.url);
  const source = ts.createSourceFile('options.ts', readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const options = source.statements.find(
    (node): node is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(node) && node.name.text === 'ParLoginOptions',
  );
  if (options === undefined) throw new Error('options.ts has no ParLoginOptions interface');
  const docs = new Map<string, OptionDoc>();
  for (const member of options.members) {
    if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
    const comments = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const tags = comments.flatMap((comment) => [...(comment.tags ?? [])]);
    docs.set(member.name.text, {
      summary: squash(comments.map((comment) => ts.getTextOfJSDocComment(comment.comment) ?? '').join(' ')),
      defaults: tags
        .filter((tag) => tag.tagName.text === 'default')
        .map((tag) => squash(ts.getTextOfJSDocComment(tag.comment) ?? '')),
      defaultMentions: comments
        .map((comment) => comment.getText().split('@default').length - 1)
        .reduce((a, b) => a + b, 0),
    });
  }
  return docs;
}

const DOCS = optionDocs();

// --- README ---------------------------------------------------------------------------------

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

interface MarkdownTable {
  /** The `##` section it is in. */
  readonly section: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());

function markdownTables(markdown: string): MarkdownTable[] {
  const tables: MarkdownTable[] = [];
  let section = '';
  let lines: string[] = [];
  const flush = (): void => {
    if (lines.length >= 2)
      tables.push({ section, header: cellsOf(lines[0]!), rows: lines.slice(2).map(cellsOf) });
    lines = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      lines.push(line);
      continue;
    }
    flush();
    if (line.startsWith('## ')) section = line.slice(3).trim();
  }
  flush();
  return tables;
}

/** The code spans of a cell: "`A` / `B`" is ['A', 'B'], "—" is []. */
const codes = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);

interface ReadmeOptionRow {
  readonly option: string;
  readonly variables: readonly string[];
  readonly default: string;
  readonly cells: readonly string[];
}

/** The rows of a `variable | option | default | …` table, one per option (a row may name several). */
function optionRows(table: MarkdownTable): ReadmeOptionRow[] {
  return table.rows.flatMap((cells) => {
    const [variables = '', options = '', defaults = ''] = cells;
    const names = codes(options);
    const values = names.length > 1 ? defaults.split(/,\s*/) : [defaults];
    if (names.length === 0) return [{ option: '—', variables: codes(variables), default: defaults, cells }];
    return names.map((option, i) => ({
      option,
      variables: codes(variables),
      default: squash(values[i] ?? ''),
      cells,
    }));
  });
}

const VARIABLE_TABLES = markdownTables(README).filter(
  (table) => table.header.slice(0, 3).join('|') === 'variable|option|default',
);
const CONFIGURATION = VARIABLE_TABLES.filter((table) => table.section === 'Configuration');

/** The variables the docs give for an option: its own, and the extra one tracing reads. */
const variablesOf = (spec: OptionSpec): string[] => [
  ...(spec.env === undefined ? [] : [spec.env]),
  ...(spec.type === 'debug' ? [spec.alsoEnv] : []),
];

const UNIT_IN_README: Readonly<Record<string, RegExp>> = {
  seconds: /seconds/i,
  milliseconds: /\bms\b|milliseconds/i,
  bytes: /\bbytes\b/i,
};

// --- the resolver -----------------------------------------------------------------------------

/** Where the resolved configuration keeps an option whose field has another name. */
const RESOLVED_AS: Partial<Record<OptionName, (config: ResolvedConfig) => unknown>> = {
  loginPath: (config) => config.paths.login,
  callbackPath: (config) => config.paths.callback,
  logoutPath: (config) => config.paths.logout,
  mePath: (config) => config.paths.me,
  backchannelLogoutPath: (config) => config.paths.backchannelLogout,
  debug: (config) => config.trace.enabled,
};

/** For each derived default (`defaultText` in the table), the resolver doing what the text says. */
const DERIVED: Partial<Record<OptionName, () => void>> = {
  clientAuthMethod: () => {
    const { cert, key } = pki.client('app');
    expect(resolveConfig(MINIMAL).clientAuthMethod).toBe('client_secret_basic');
    expect(resolveConfig({ ...MINIMAL, clientSecret: undefined, privateKey: EC_PEM }).clientAuthMethod).toBe(
      'private_key_jwt',
    );
    expect(
      resolveConfig({ ...MINIMAL, clientSecret: undefined, tlsClientCert: cert, tlsClientKey: key })
        .clientAuthMethod,
    ).toBe('tls_client_auth');
    expect(
      resolveConfig({ ...MINIMAL, tlsClientCert: cert, tlsClientKey: key, privateKey: EC_PEM })
        .clientAuthMethod,
    ).toBe('client_secret_basic');
  },
  privateKeyAlg: () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const withKey = (privateKey: ParLoginOptions['privateKey']): string | undefined =>
      resolveConfig({ ...MINIMAL, clientSecret: undefined, privateKey }).signingKey?.alg;
    expect(withKey(EC_PEM)).toBe('ES256');
    expect(withKey(JSON.stringify(rsa))).toBe('RS256');
    expect(withKey(JSON.stringify({ ...rsa, alg: 'PS384' }))).toBe('PS384');
    expect(withKey(generateKeyPairSync('ed25519').privateKey)).toBe('EdDSA');
  },
  privateKeyId: () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const kidOf = (privateKey: string): string | undefined =>
      resolveConfig({ ...MINIMAL, clientSecret: undefined, privateKey }).signingKey?.kid;
    expect(kidOf(JSON.stringify({ ...jwk, kid: 'k1' }))).toBe('k1');
    expect(kidOf(JSON.stringify(jwk))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  },
  authorizationParams: () => expect(resolveConfig(MINIMAL).authorizationParams).toEqual({}),
  dpop: () => {
    const { cert, key } = pki.client('app');
    const fapi2 = { ...MINIMAL, clientSecret: undefined, profile: 'fapi2', privateKey: EC_PEM } as const;
    expect(resolveConfig(MINIMAL).dpop).toBe('off');
    expect(resolveConfig(fapi2).dpop).toBe('session');
    expect(resolveConfig({ ...fapi2, tlsClientCert: cert, tlsClientKey: key }).dpop).toBe('off');
  },
  tlsClientCert: () => expect(resolveConfig(MINIMAL)).toMatchObject({ useMtls: false }),
  tlsClientKey: () => expect(resolveConfig(MINIMAL).tls).toBeUndefined(),
  tlsCa: () => expect(resolveConfig(MINIMAL).tls?.ca).toBeUndefined(),
  redirectOrigins: () => expect(resolveConfig(MINIMAL).redirectOrigins).toEqual(['https://app.example']),
  frontChannelParams: () => expect(resolveConfig(MINIMAL).frontChannelParams).toEqual([]),
  postLogoutRedirectUri: () => {
    expect(resolveConfig(MINIMAL).postLogoutRedirectUri).toBe('https://app.example/');
    expect(resolveConfig({ ...MINIMAL, baseUrl: 'https://app.example/portal/' }).postLogoutRedirectUri).toBe(
      'https://app.example/portal/',
    );
  },
  previousSessionSecrets: () => expect(resolveConfig(MINIMAL).sessionSecrets).toEqual([SECRET]),
  sessionCookieName: () => {
    expect(resolveConfig(MINIMAL).sessionCookieName).toBe('__Host-parlogin');
    expect(resolveConfig({ ...MINIMAL, baseUrl: 'http://127.0.0.1:3000' }).sessionCookieName).toBe(
      'parlogin',
    );
  },
  sessionEncryptionKey: () => {
    const previous = 'p'.repeat(40);
    expect(resolveConfig(MINIMAL).sessionEncryptionKeys).toEqual([deriveKey(SECRET)]);
    expect(resolveConfig({ ...MINIMAL, previousSessionSecrets: [previous] }).sessionEncryptionKeys).toEqual([
      deriveKey(SECRET),
      deriveKey(previous),
    ]);
  },
  redisUrl: () => expect('redisUrl' in resolveConfig(MINIMAL)).toBe(false),
  redisClient: () => expect('redisClient' in resolveConfig(MINIMAL)).toBe(false),
  sessionStore: () => expect('sessionStore' in resolveConfig(MINIMAL)).toBe(false),
  logger: () => expect(resolveConfig(MINIMAL).logger).toBe(defaultLogger),
  afterCallback: () => expect('afterCallback' in resolveConfig(MINIMAL)).toBe(false),
  redisClusterNodes: () => expect('redisClusterNodes' in resolveConfig(MINIMAL)).toBe(false),
  redisSentinels: () => expect('redisSentinels' in resolveConfig(MINIMAL)).toBe(false),
  statePrefix: () => {
    expect(resolveConfig(MINIMAL).statePrefix).toBe('parlogin-state:');
    expect(resolveConfig({ ...MINIMAL, sessionPrefix: 'shop:' }).statePrefix).toBe('shop-state:');
  },
};

/** For each conditionally required option, options that need it and the problem they get without it. */
const REQUIRED_WHEN: Partial<Record<OptionName, readonly [ParLoginOptions, string][]>> = {
  clientSecret: [
    [{ clientAuthMethod: 'client_secret_basic' }, 'is required with client_secret_basic'],
    [{ clientAuthMethod: 'client_secret_post' }, 'is required with client_secret_post'],
  ],
  privateKey: [
    [{ clientAuthMethod: 'private_key_jwt' }, 'is required with private_key_jwt'],
    [{ requestObject: true }, 'is required with requestObject'],
  ],
  redisSentinelName: [[{ redisSentinels: ['redis://127.0.0.1:26379'] }, 'is required with redisSentinels']],
};

/** A value of each kind as an environment variable holds it, and the option configFromEnv makes of it. */
const ENV_SAMPLES: Readonly<Record<OptionSpec['type'], readonly [string, unknown][]>> = {
  string: [[' text ', 'text']],
  secret: [[' spaced secret ', ' spaced secret ']],
  url: [[' https://x.example ', 'https://x.example']],
  pem: [[' /etc/x.pem ', '/etc/x.pem']],
  path: [],
  object: [],
  params: [['a=1&b=x%20y', { a: '1', b: 'x y' }]],
  boolean: [
    ['yes', true],
    ['0', false],
    ['maybe', 'maybe'],
  ],
  debug: [['express-par-login*', true]],
  integer: [
    ['42', 42],
    ['4s', '4s'],
  ],
  enum: [[' a ', 'a']],
  list: [[' a, b ,, c ', ['a', 'b', 'c']]],
};

describe('the option table', () => {
  it('has a row for every option of ParLoginOptions, in the order options.ts declares them', () => {
    expect(NAMES).toEqual([...DOCS.keys()]);
  });

  it('is where ENV_NAMES comes from, in table order', () => {
    const expected = ROWS.flatMap(([name, spec]) => (spec.env === undefined ? [] : [[name, spec.env]]));
    expect(Object.entries(ENV_NAMES)).toEqual(expected);
    expect(new Set(Object.values(ENV_NAMES)).size).toBe(expected.length);
    for (const [name, spec] of ROWS)
      expect(describeOption(name)).toBe(spec.env === undefined ? name : `${name} (${spec.env})`);
  });

  it('types ENV_NAMES with the literal variables, and only for options that have one', () => {
    const issuer: 'OIDC_ISSUER' = ENV_NAMES.issuer;
    expect(issuer).toBe('OIDC_ISSUER');
    // @ts-expect-error -- maxPendingLogins has no environment variable, so no entry
    expect(ENV_NAMES.maxPendingLogins).toBeUndefined();
  });

  it.each(ROWS.filter(([, spec]) => spec.env !== undefined))(
    'has configFromEnv parse %s as its kind says',
    (name, spec) => {
      for (const [text, parsed] of ENV_SAMPLES[spec.type])
        expect(configFromEnv({ [spec.env!]: text })).toEqual({ [name]: parsed });
      expect(configFromEnv({ [spec.env!]: '  ' })).toEqual({});
    },
  );

  it('has a default or says the option is required, and a unit on every duration', () => {
    for (const [name, spec] of ROWS) {
      expect([name, defaultText(spec)]).not.toEqual([name, '']);
      if (spec.type === 'integer' && /Timeout|Grace|Tolerance|Skew|Cooldown/.test(name))
        expect([name, spec.unit]).toEqual([name, name.endsWith('Ms') ? 'milliseconds' : 'seconds']);
      if (name.endsWith('Bytes')) expect([name, 'unit' in spec && spec.unit]).toEqual([name, 'bytes']);
    }
  });
});

describe('the resolver', () => {
  const config = resolveConfig(MINIMAL);

  it.each(ROWS.filter(([, spec]) => 'default' in spec))('applies the default of %s', (name, spec) => {
    const read =
      RESOLVED_AS[name] ??
      ((resolved: ResolvedConfig) => (resolved as unknown as Record<string, unknown>)[name]);
    expect(read(config)).toEqual((spec as { default: unknown }).default);
  });

  it.each(ROWS.filter(([, spec]) => 'defaultText' in spec))(
    'derives the default of %s as described',
    (name) => {
      const check = DERIVED[name];
      if (check === undefined)
        throw new Error(`no check in DERIVED that the resolver derives ${name} as the docs say`);
      check();
    },
  );

  it('reports every option the table requires when it is missing', () => {
    const problems = problemsOf({}).join('\n');
    for (const [name, spec] of ROWS)
      if ('required' in spec && spec.required === true)
        expect(problems).toContain(`${describeOption(name)} is required`);
  });

  it.each(ROWS.filter(([, spec]) => 'required' in spec && spec.required !== true))(
    'reports %s when what needs it is set without it',
    (name) => {
      const cases = REQUIRED_WHEN[name];
      if (cases === undefined) throw new Error(`no case in REQUIRED_WHEN for ${name}`);
      for (const [options, text] of cases)
        expect(problemsOf({ ...MINIMAL, [name]: undefined, ...options })).toContainEqual(
          expect.stringContaining(`${describeOption(name)} ${text}`),
        );
    },
  );

  it.each(ROWS.filter(([, spec]) => spec.type === 'integer'))('holds %s to its range', (name, spec) => {
    if (spec.type !== 'integer') return;
    const message = `${describeOption(name)} must be an integer from ${spec.min} to ${spec.max}`;
    for (const value of [spec.min - 1, spec.max + 1, spec.min + 0.5])
      expect(problemsOf({ ...MINIMAL, [name]: value })).toEqual([`${message} (got "${value}")`]);
    const resolve = (value: number): unknown =>
      (resolveConfig({ ...MINIMAL, [name]: value }) as unknown as Record<string, unknown>)[name];
    expect([resolve(spec.min), resolve(spec.max)]).toEqual([spec.min, spec.max]);
  });

  it.each(ROWS.filter(([, spec]) => spec.type === 'enum' || (spec.type === 'list' && spec.values)))(
    'accepts only the values of %s',
    (name, spec) => {
      const values = 'values' in spec ? (spec.values ?? []) : [];
      const bad = spec.type === 'list' ? ['nope'] : 'nope';
      const problem = problemsOf({ ...MINIMAL, [name]: bad }).find((text) =>
        text.startsWith(describeOption(name)),
      );
      expect(problem).toBeDefined();
      for (const value of values) expect(problem).toContain(value);
    },
  );

  it.each(ROWS.filter(([, spec]) => spec.type === 'boolean'))('takes only true or false for %s', (name) => {
    expect(problemsOf({ ...MINIMAL, [name]: 'yes' })).toEqual([
      `${describeOption(name)} must be true or false (got "yes")`,
    ]);
  });

  it.each(ROWS.filter(([, spec]) => spec.type === 'path'))('takes only a path for %s', (name) => {
    expect(problemsOf({ ...MINIMAL, [name]: 'relative' })).toEqual([
      `${name} must be a path like "${String((OPTION_TABLE[name] as { default: string }).default)}" (got "relative")`,
    ]);
  });
});

describe('the TSDoc of ParLoginOptions (options.ts)', () => {
  it.each(ROWS)('documents %s as the table does', (name, spec) => {
    const doc = DOCS.get(name);
    if (doc === undefined) throw new Error(`options.ts does not declare ${name}`);
    expect(doc.summary.startsWith(spec.doc)).toBe(true);
    for (const variable of variablesOf(spec)) expect(doc.summary).toContain(`\`${variable}\``);
    if (spec.env === undefined) expect(doc.summary).not.toMatch(/\(`[A-Z][A-Z0-9_]+`/);
    expect(doc.defaultMentions).toBe(doc.defaults.length);
    if ('required' in spec) {
      expect(doc.defaults).toEqual([]);
      expect(doc.summary).toContain(spec.required === true ? 'Required.' : `Required ${spec.required}.`);
    } else {
      expect(doc.defaults).toEqual([defaultText(spec)]);
    }
    if (spec.type === 'integer') {
      expect(doc.summary).toContain(`from ${spec.min} to ${spec.max}`);
      if (spec.unit !== undefined) expect(doc.summary).toMatch(new RegExp(`\\b${spec.unit}\\b`, 'i'));
    }
  });
});

describe('the README', () => {
  it('has one configuration table listing every option once, in table order, and nothing else', () => {
    expect(CONFIGURATION).toHaveLength(1);
    expect(optionRows(CONFIGURATION[0]!).map((row) => row.option)).toEqual(NAMES);
  });

  it.each(ROWS)('gives the variable, default, unit and range of %s as the table does', (name, spec) => {
    const row = optionRows(CONFIGURATION[0]!).find((candidate) => candidate.option === name);
    if (row === undefined) throw new Error(`the README's configuration table has no row for ${name}`);
    expect(row.variables).toEqual(variablesOf(spec));
    expect(row.default).toBe(defaultText(spec));
    if (spec.type === 'integer') {
      const [, , , what = '', refused = ''] = row.cells;
      expect(refused).toContain(`not an integer from ${spec.min} to ${spec.max}`);
      if (spec.unit !== undefined) expect(what).toMatch(UNIT_IN_README[spec.unit]!);
    }
  });

  it('agrees with the table in every other variable | option | default table', () => {
    const others = VARIABLE_TABLES.filter((table) => table.section !== 'Configuration').flatMap(optionRows);
    for (const row of others) {
      const spec = (OPTION_TABLE as Record<string, OptionSpec | undefined>)[row.option];
      if (spec === undefined) throw new Error(`the README documents an unknown option ${row.option}`);
      expect([row.option, row.variables, row.default]).toEqual([
        row.option,
        variablesOf(spec),
        defaultText(spec),
      ]);
    }
  });

  it('names the right variable and default in every "#### `VARIABLE` / `option`" section', () => {
    const sections = [...README.matchAll(/^#{2,4} `([A-Z][A-Z0-9_]*)` \/ `(\w+)`\n([\s\S]*?)(?=^#)/gm)];
    expect(sections.length).toBeGreaterThan(0);
    for (const [, variable, option, body = ''] of sections) {
      const spec = (OPTION_TABLE as Record<string, OptionSpec | undefined>)[option!];
      if (spec === undefined) throw new Error(`the README has a section for an unknown option ${option}`);
      expect([option, variable]).toEqual([option, spec.env]);
      const stated = /^Default: (.*)$/m.exec(body)?.[1];
      if (stated !== undefined)
        expect([option, stated.startsWith(defaultText(spec))]).toEqual([option, true]);
    }
  });
});
