/**
 * Many complete logins, fast, against the scripted AS (see scripted-as.ts): `/login`, the AS's
 * immediate redirect, and the callback, with the app's cookies carried by hand. Used to fill an
 * app with logged-in sessions.
 *
 * @module
 */
import { Agent, request } from 'undici';

/** Expected statuses of the app's login start and callback. */
export interface LoginStatuses {
  login: number;
  callback: number;
}

function cookiePairs(setCookie: string | string[] | undefined): string[] {
  return [setCookie ?? []]
    .flat()
    .map((header) => header.slice(0, header.indexOf(';') === -1 ? undefined : header.indexOf(';')));
}

/** Make `count` logins through `appUrl`, `concurrency` at a time. Throws on the first failure. */
export async function driveLogins(
  appUrl: string,
  count: number,
  concurrency: number,
  statuses: LoginStatuses,
): Promise<void> {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: concurrency * 2 });
  const get = async (url: string, cookie?: string) => {
    const response = await request(url, { dispatcher: agent, headers: cookie ? { cookie } : {} });
    await response.body.dump();
    return {
      status: response.statusCode,
      location: response.headers.location as string | undefined,
      cookies: cookiePairs(response.headers['set-cookie']),
    };
  };
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      const login = await get(`${appUrl}/login`);
      if (login.status !== statuses.login || login.location === undefined)
        throw new Error(`/login answered ${login.status}`);
      const authorize = await get(login.location);
      if (authorize.status !== 303 || authorize.location === undefined)
        throw new Error(`the scripted AS answered ${authorize.status}`);
      const callback = await get(authorize.location, login.cookies.join('; '));
      if (callback.status !== statuses.callback) throw new Error(`/callback answered ${callback.status}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await agent.close();
  }
}
