/**
 * The `parLogin()` middleware of a running stack, to call its API (`capabilities()`, `config`).
 *
 * @module
 */
import type { RequestListener } from 'node:http';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import type { ParLoginMiddleware } from '../../src/index.js';

/** The middleware the stack's app mounted. */
export function middlewareOf(stack: { app: RequestListener }): ParLoginMiddleware {
  return (stack.app as unknown as { locals: Record<string, unknown> }).locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware;
}
