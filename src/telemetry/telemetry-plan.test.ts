import { describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.js';
import { promqlAuthIssues, promqlAuthorization } from './telemetry-plan.js';
import type { PromqlAuth, TelemetryConfig } from '../scenarios/telemetry-schema.js';

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

describe('promql.auth secrets as the environment holds them', () => {
  it('drops the newline a secret made from a file ends in, and surrounding spaces', () => {
    expect(promqlAuthorization({ bearerTokenEnv: 'PROM_TOKEN' }, { PROM_TOKEN: 'tok123\n' })).toBe('Bearer tok123');
    expect(promqlAuthorization({ username: 'me', passwordEnv: 'PW' }, { PW: '  pw\r\n' })).toBe(`Basic ${Buffer.from('me:pw').toString('base64')}`);
    expect(() => promqlAuthorization({ bearerTokenEnv: 'PROM_TOKEN' }, { PROM_TOKEN: ' \n' })).toThrow('PROM_TOKEN is not set');
  });

  it('refuses a control character left inside, naming the variable (exit 3)', () => {
    expect(() => promqlAuthorization({ bearerTokenEnv: 'PROM_TOKEN' }, { PROM_TOKEN: 'tok\n123' })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^telemetry\.promql\.auth\.bearerTokenEnv: environment variable PROM_TOKEN holds a control character/), exitCode: ExitCode.invalidInput }));
    const telemetry = (auth: PromqlAuth) => ({ promql: { url: 'http://127.0.0.1:9090', auth } }) as TelemetryConfig;
    expect(promqlAuthIssues(telemetry({ username: 'me', passwordEnv: 'PW' }), { PW: 'a\tb' })).toEqual([
      { path: ['telemetry', 'promql', 'auth', 'passwordEnv'], message: expect.stringContaining('environment variable PW holds a control character') }]);
    expect(promqlAuthIssues(telemetry({ bearerTokenEnv: 'T' }), {})).toEqual([{ path: ['telemetry', 'promql', 'auth', 'bearerTokenEnv'], message: 'environment variable T is not set' }]);
    expect(promqlAuthIssues(telemetry({ bearerTokenEnv: 'T' }), { T: 'ok\n' })).toEqual([]);
    expect(promqlAuthIssues(undefined, {})).toEqual([]);
  });
});
