/**
 * The ports of `npm run demo` and `npm run sample` from the environment, and what to say when one
 * cannot be used: the variable to change and a command that works, instead of a stack trace.
 *
 * @module
 */

/** A port variable, read and checked: an integer from 0 (any free port) to 65535. */
export interface PortSetting {
  readonly variable: string;
  readonly port: number;
}

/**
 * Read `variable` from `env`, `fallback` when unset.
 *
 * @returns the setting, or the sentence that explains why it is not a port.
 */
export function portFromEnv(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: number,
): PortSetting | string {
  const text = env[variable]?.trim();
  if (text === undefined || text === '') return { variable, port: fallback };
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535)
    return `${variable} must be a port number from 0 to 65535 (got "${text.slice(0, 40)}").`;
  return { variable, port: Number(text) };
}

/**
 * What to tell the user when listening failed because a port is taken or not allowed, naming the
 * variable that sets it and a free alternative; `undefined` for any other failure.
 */
export function explainListenFailure(
  err: unknown,
  settings: readonly PortSetting[],
  command: string,
): string | undefined {
  const { code, port } = (err ?? {}) as { code?: unknown; port?: unknown };
  if (code !== 'EADDRINUSE' && code !== 'EACCES') return undefined;
  const setting = settings.find((candidate) => candidate.port === port);
  const name = setting === undefined ? 'a port' : `${setting.variable} (${setting.port})`;
  const others = settings.map((s) => `${s.variable}=${s.port + 100}`).join(' ');
  const why =
    code === 'EADDRINUSE'
      ? `${name} is already in use: another program (or another run of this one) listens on it.`
      : `${name} may not be used by this user (ports below 1024 need privileges).`;
  return `${why}\nStop that program, or choose free ports: ${others} ${command}`;
}
