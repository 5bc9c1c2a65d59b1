/** `requireLogin()` options, checked when the guard is created (app/guard.ts, app/guard-conditions.ts). */
import { describe, expect, it } from '@jest/globals';
import { requireLogin, type RequireLoginOptions } from '../../src/index.js';

describe('requireLogin options', () => {
  it.each<[string, unknown]>([
    ['an unknown redirect mode', { redirect: 'sometimes' }],
    ['claims that are not an object', { claims: 'admin' }],
    ['a check that is not a function', { check: true }],
    ['a maxAge that is not whole seconds', { maxAge: 1.5 }],
    ['a negative maxAge', { maxAge: -1 }],
    ['empty acrValues', { acrValues: [] }],
    ['acrValues of blanks', { acrValues: '  ' }],
  ])('refuses %s with ERR_INVALID_ARG_VALUE', (_what, options) => {
    expect(() => requireLogin(options as RequireLoginOptions)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('accepts every condition together', () => {
    const guard = requireLogin({
      claims: { groups: 'admins', age: (value) => typeof value === 'number' && value >= 18 },
      check: () => true,
      acrValues: 'urn:loa:2 urn:loa:3',
      maxAge: 0,
    });
    expect(typeof guard).toBe('function');
  });
});
