import { describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.js';
import { promqlAuthorization } from './telemetry-plan.js';

describe('promql.auth', () => {
  it('reads the secret from the environment variable it names: a bearer token or a Basic password', () => {
    expect(promqlAuthorization({ bearerTokenEnv: 'PROM_TOKEN' }, { PROM_TOKEN: 't0k' })).toBe('Bearer t0k');
    expect(promqlAuthorization({ username: 'me', passwordEnv: 'PW' }, { PW: 'p:w' })).toBe(`Basic ${Buffer.from('me:p:w').toString('base64')}`);
    expect(promqlAuthorization(undefined, { PROM_TOKEN: 't0k' })).toBeUndefined();
  });

  it('an unset (or empty) variable is an error naming it, exit 3', () => {
    for (const env of [{}, { PROM_TOKEN: '' }]) {
      expect(() => promqlAuthorization({ bearerTokenEnv: 'PROM_TOKEN' }, env)).toThrow(
        expect.objectContaining({ message: 'telemetry.promql.auth.bearerTokenEnv: environment variable PROM_TOKEN is not set', exitCode: ExitCode.invalidInput }));
    }
  });
});
