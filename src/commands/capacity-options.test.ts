import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../exit-codes.js';
import { LOAD_LIMITS } from '../scenarios/schema.js';
import { parseCapacityOptions } from './capacity-options.js';

describe('capacity rate flags', () => {
  it.each(['--max-rate', '--start-rate', '--base-rate', '--peak-rps'])('%s past the arrival-rate bound is a usage error', (flag) => {
    const key = { '--max-rate': 'maxRate', '--start-rate': 'startRate', '--base-rate': 'baseRate', '--peak-rps': 'peakRps' }[flag]!;
    const over = String(LOAD_LIMITS.arrivalRate * 10);
    // --start-rate must also stay under --max-rate: give the largest one allowed.
    const flags = { replicas: '1', maxRate: String(LOAD_LIMITS.arrivalRate), [key]: over };
    let err: unknown;
    try {
      parseCapacityOptions(flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(ExitCode.usage);
    expect((err as UserError).message).toBe(`${flag} takes at most ${LOAD_LIMITS.arrivalRate} arrivals/s, got ${over}: one generator starts tens of thousands of iterations per second; for more load, run several generators`);
    // The bound itself is allowed.
    expect(parseCapacityOptions({ ...flags, [key]: String(LOAD_LIMITS.arrivalRate) })[key as 'maxRate']).toBe(LOAD_LIMITS.arrivalRate);
  });
});

describe('capacity autoscaler flags', () => {
  it('leaves --pod-startup and --consumers unset unless given (their defaults depend on the target)', () => {
    const s = parseCapacityOptions({ replicas: '1,2' });
    expect(s.podStartupMs).toBeUndefined();
    expect(s.consumers).toBeUndefined();
    expect(parseCapacityOptions({ replicas: '1', podStartup: '45s', consumers: '3' })).toMatchObject({ podStartupMs: 45_000, consumers: 3 });
  });

  it.each(['0', '1.5', 'two', '1001'])('--consumers %s is a usage error', (v) => {
    expect(() => parseCapacityOptions({ replicas: '1', consumers: v })).toThrow(/--consumers takes a whole number from 1 to 1000/);
  });
});

describe('capacity --slo', () => {
  it('takes k6 syntax and any percentile; refuses what does not parse, with the reason', () => {
    expect(parseCapacityOptions({ replicas: '1', slo: ['p(95)<500', 'p99.9 < 1s,p75 < 100ms', 'http_req_failed: rate<0.01'] }).slos)
      .toEqual(['p(95)<500', 'p99.9 < 1s', 'p75 < 100ms', 'http_req_failed: rate<0.01']);
    expect(() => parseCapacityOptions({ replicas: '1', slo: ['rate<0.01'] })).toThrow(/^--slo "rate<0\.01": rate of what\? Write it under a k6 metric key/);
    expect(() => parseCapacityOptions({ replicas: '1', slo: ['p0 < 1ms'] })).toThrow('--slo "p0 < 1ms": a percentile is above 0 and at most 100, got "p0"');
  });
});

describe('capacity duration flags', () => {
  it('read compound durations such as 1m30s and 10min', () => {
    expect(parseCapacityOptions({ replicas: '1', warmup: '1m30s', steady: '10min', podStartup: '1m0.5s' })).toMatchObject({ warmupMs: 90_000, podStartupMs: 60_500 });
    expect(() => parseCapacityOptions({ replicas: '1', warmup: '30s1m' })).toThrow(/--warmup takes a duration such as 15s or 500ms, got "30s1m"/);
  });
});

describe('capacity --redis-tls', () => {
  it('is off unless given: the KEDA trigger connects with TLS only when asked (enableTLS)', () => {
    expect(parseCapacityOptions({ replicas: '1' }).redisTls).toBe(false);
    expect(parseCapacityOptions({ replicas: '1', redisTls: true }).redisTls).toBe(true);
  });
});
