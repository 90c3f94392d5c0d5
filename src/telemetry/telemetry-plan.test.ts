import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.js';
import { planTelemetry, promqlAuthIssues, promqlAuthorization } from './telemetry-plan.js';
import { OPTIONAL_SIGNALS, REFERENCE_SIGNALS, SIGNALS, type PromqlAuth, type SignalName, type TelemetryConfig } from '../scenarios/telemetry-schema.js';

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

describe('docs/telemetry.md', () => {
  it('lists every signal with its default mapping for the reference stack', () => {
    const doc = readFileSync(new URL('../../docs/telemetry.md', import.meta.url), 'utf8');
    for (const name of Object.keys(SIGNALS) as SignalName[]) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      const mapping = REFERENCE_SIGNALS[name];
      for (const sel of Array.isArray(mapping) ? mapping : [mapping]) {
        if ('query' in sel) throw new Error(`${name}: the reference mapping scrapes, it does not query`);
        expect(row, name).toContain(`\`${sel.name}`);
        for (const [label, value] of Object.entries(sel.labels)) {
          const values = Array.isArray(value) ? value.join('|') : value;
          expect(row, name).toMatch(new RegExp(`${label}=~?"${values.replace(/\|/g, '\\|')}"`));
        }
        if (sel.by) expect(row, name).toContain(`by \`${sel.by}\``);
      }
    }
  });
});

describe('optional signals', () => {
  const config = (metrics: TelemetryConfig['metrics']): TelemetryConfig =>
    ({ prometheus: 'http://127.0.0.1:9/metrics', interval: 1000, drainTimeout: 0, metrics, custom: {} }) as TelemetryConfig;

  it('the database signals of the default mapping are not warned about when missing; mapped by the scenario, they are', () => {
    expect(planTelemetry(undefined, 'http://127.0.0.1:9', true, {})!.quiet).toEqual([...OPTIONAL_SIGNALS]);
    expect(planTelemetry(config({ replicaLag: { name: 'app_lag_seconds', labels: {}, by: 'replica' } }), 'http://127.0.0.1:9', true, {})!.quiet)
      .toEqual(OPTIONAL_SIGNALS.filter((n) => n !== 'replicaLag'));
    // Another service's own mapping stands alone: what it lists, it wants.
    expect(planTelemetry(config({ cacheHits: { name: 'app_hits_total', labels: {} } }), 'http://127.0.0.1:9', false, {})!.quiet).toEqual([]);
  });
});
