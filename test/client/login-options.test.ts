/** Which acr values a login asked for (client/login-options.ts `requestedAcr`). */
import { describe, expect, it } from '@jest/globals';
import { normalizeLoginOptions, requestedAcr, type LoginOptions } from '../../src/client/login-options.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import type { ParLoginOptions } from '../../src/index.js';

const BASE: ParLoginOptions = {
  issuer: 'https://as.example',
  clientId: 'app',
  clientSecret: 's'.repeat(32),
  baseUrl: 'https://app.example',
  sessionSecret: 'x'.repeat(40),
};

function asked(login: LoginOptions | undefined, configured: Record<string, string> = {}) {
  const config = resolveConfig({ ...BASE, authorizationParams: configured });
  return requestedAcr(login === undefined ? undefined : normalizeLoginOptions(login, config), config);
}

const essential = (acr: Record<string, unknown>) => ({ id_token: { acr: { essential: true, ...acr } } });

describe('requestedAcr', () => {
  it('is undefined when nothing was asked', () => {
    expect(asked({})).toBeUndefined();
    expect(asked(undefined)).toBeUndefined();
    expect(asked({ claims: { id_token: { acr: { values: ['a'] } } } })).toBeUndefined(); // voluntary
  });

  it("takes the login's acrValues, else the configured acr_values", () => {
    expect(asked({ acrValues: ['urn:loa:3', 'urn:loa:2'] }, { acr_values: 'urn:loa:1' })).toEqual([
      'urn:loa:3',
      'urn:loa:2',
    ]);
    expect(asked({}, { acr_values: 'urn:loa:1  urn:loa:2' })).toEqual(['urn:loa:1', 'urn:loa:2']);
    expect(asked(undefined, { acr_values: 'urn:loa:1' })).toEqual(['urn:loa:1']);
  });

  it('takes an essential acr claim over acr_values: its values, its value, or any value', () => {
    expect(asked({ acrValues: 'low', claims: essential({ values: ['high', 'higher'] }) })).toEqual([
      'high',
      'higher',
    ]);
    expect(asked({ claims: essential({ value: 'high' }) })).toEqual(['high']);
    expect(asked({ claims: essential({}) })).toEqual([]);
    expect(asked({}, { claims: JSON.stringify(essential({ value: 'cfg' })) })).toEqual(['cfg']);
  });
});
