import { describe, expect, it } from '@jest/globals';
import { createTracer, flowId, namespaceEnabled } from '../../src/observability/debug.js';
import { configFromEnv } from '../../src/config/env.js';

describe('namespaceEnabled', () => {
  it.each([
    ['express-par-login*', undefined, true],
    ['express-par-login', undefined, true],
    ['express-par-login:*', undefined, true],
    ['*', undefined, true],
    ['app:*,express-par-login*', undefined, true],
    ['app:* express-*', undefined, true],
    ['*,-express-par-login*', undefined, false],
    ['app:*', undefined, false],
    [undefined, 'express-par-login', true],
    [undefined, 'http,express-par-*', true],
    [undefined, 'http,net', false],
    [undefined, undefined, false],
  ])('DEBUG=%j NODE_DEBUG=%j → %j', (debug, nodeDebug, expected) => {
    expect(namespaceEnabled(debug, nodeDebug)).toBe(expected);
  });

  it('turns the debug option on from the environment only', () => {
    expect(configFromEnv({ DEBUG: 'express-par-login*' }).debug).toBe(true);
    expect(configFromEnv({ NODE_DEBUG: 'express-par-login' }).debug).toBe(true);
    expect(configFromEnv({ DEBUG: 'other' }).debug).toBeUndefined();
  });
});

describe('createTracer', () => {
  it('redacts secret-bearing fields whatever the caller passes, and never throws', () => {
    const records: Array<Record<string, unknown>> = [];
    const trace = createTracer((r) => void records.push(r));
    trace.step('x', {
      flow: 'f',
      access_token: 'at',
      client_secret: 's',
      code: 'c',
      state: 'st',
      code_verifier: 'v',
      token_type: 'Bearer',
      n: 1,
    });
    expect(records).toEqual([
      {
        step: 'x',
        flow: 'f',
        access_token: '[redacted]',
        client_secret: '[redacted]',
        code: '[redacted]',
        state: '[redacted]',
        code_verifier: '[redacted]',
        token_type: 'Bearer',
        n: 1,
      },
    ]);
    expect(() =>
      createTracer(() => {
        throw new Error('sink broke');
      }).step('y'),
    ).not.toThrow();
    expect(createTracer(undefined).enabled).toBe(false);
  });

  it('gives a login one flow id that does not reveal its state', () => {
    expect(flowId('state-1')).toBe(flowId('state-1'));
    expect(flowId('state-1')).not.toBe(flowId('state-2'));
    expect(flowId('state-1')).not.toContain('state');
  });
});
