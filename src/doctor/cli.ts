/**
 * The `express-par-login` command. `express-par-login doctor` checks the configuration in the
 * environment against the real authorization server (and Redis) and exits with 0 only when every
 * check passes. Installed as the package's `bin`; in this repository, `npm run doctor`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { formatReport } from './format-report.js';
import { runDoctor, type DoctorOptions } from './run-doctor.js';

/** Where the command writes. */
export interface CliOutput {
  /** Normal output (the report). */
  out(text: string): void;
  /** Usage errors. */
  err(text: string): void;
}

const USAGE = `Usage: express-par-login doctor [--env-file <path>]

  doctor   Check the configuration the environment gives parLogin(): the variables, the issuer
           and its discovery, the PAR endpoint, the client's authentication and redirect URI
           (one throw-away PAR push), Redis when REDIS_URL is set, and the clock against the AS.
           Exit code 0 only when every check passes. Secrets are never printed.

  --env-file <path>   Read variables from a .env file first (the environment wins over it).
`;

/** Exit codes. */
const EXIT = Object.freeze({ healthy: 0, unhealthy: 1, usage: 2 });

const defaultOutput: CliOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * Run the command line.
 *
 * @param argv The arguments after the program name, e.g. `['doctor']`.
 * @param env The environment. @default process.env
 * @returns The exit code: 0 healthy, 1 a check failed, 2 a usage error.
 */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  output: CliOutput = defaultOutput,
  options: DoctorOptions = {},
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    if (command === undefined) output.err(USAGE);
    else output.out(USAGE);
    return command === undefined ? EXIT.usage : EXIT.healthy;
  }
  if (command !== 'doctor') {
    output.err(`Unknown command "${command}".\n\n${USAGE}`);
    return EXIT.usage;
  }
  let merged = env;
  if (rest[0] === '--env-file' && rest[1] !== undefined && rest.length === 2) {
    try {
      merged = { ...parseEnv(readFileSync(rest[1], 'utf8')), ...env };
    } catch (err) {
      output.err(`Cannot read ${rest[1]}: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
  } else if (rest.length > 0) {
    output.err(`Unexpected argument "${rest[0]}".\n\n${USAGE}`);
    return EXIT.usage;
  }
  output.out('express-par-login doctor: checking the configuration in the environment\n\n');
  const report = await runDoctor(merged, options);
  output.out(formatReport(report));
  return report.healthy ? EXIT.healthy : EXIT.unhealthy;
}

// Run when executed directly (`node --import tsx src/cli.ts doctor`); the bin calls runCli itself.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
