import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { mergeEncoded, summarizeHistogram } from '../src/engine/latency-histogram.js';
import { runBin, runScenario, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

describe('--workers N (worker threads, built bin)', () => {
  it('reports the in-flight cap as run: each worker gets at least 1, so --max-in-flight 1 with 4 workers runs with 4', async () => {
    const dir = await tempFiles({
      's.yaml': `name: caps\ntarget: ${server.url}\nphases: [{ duration: 500ms, arrivalRate: 10 }]\nflows: [{ name: a, steps: [{ get: /delay/5 }] }]\n`,
    });
    const r = await runBin(['run', 's.yaml', '--workers', '4', '--max-in-flight', '1', '--out', 'r.json', '--no-progress'], { cwd: dir });
    expect(r.stderr).not.toContain('internal error');
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.generator.workers).toBe(4);
    expect(result.generator.maxInFlight).toBe(4);
  });

  it('splits one schedule across threads and merges their histograms exactly', async () => {
    const dir = await tempFiles({
      's.yaml': `
name: workers
target: ${server.url}
phases:
  - { duration: 2s, arrivalRate: 100, rampTo: 200 }
flows:
  - { name: a, weight: 1, steps: [{ name: fast, get: /delay/5 }] }
  - { name: b, weight: 1, steps: [{ name: slow, get: /delay/20 }] }
`,
    });
    const r = await runBin(['run', 's.yaml', '--workers', '2', '--out', 'r.json', '--no-progress'], { cwd: dir });
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.generator.workers).toBe(2);
    // Open phase: A(2) = 100*2 + 100*2/2 = 300 arrivals, split between two threads, none lost or doubled.
    expect(result.totals.iterations.offered).toBe(300);
    expect(result.totals.iterations.started).toBe(300);
    expect(result.totals.requests).toBe(300);
    expect((await server.stats()).count).toBe(300);
    expect(result.totals.errors).toBe(0);
    // The run total is the merge of the endpoint histograms, to the microsecond.
    const merged = summarizeHistogram(mergeEncoded(Object.values(result.histograms)));
    expect(merged).toEqual(result.totals.latencyMs);
    expect(result.endpoints.find((e) => e.name === 'fast')!.latencyMs.p50).toBeGreaterThanOrEqual(5);
    expect(result.endpoints.find((e) => e.name === 'slow')!.latencyMs.p50).toBeGreaterThanOrEqual(20);
    // Every second of the run was merged from both threads.
    expect(result.timeseries.length).toBeGreaterThanOrEqual(2);
    expect(result.timeseries.reduce((s, p) => s + p.rps, 0)).toBe(result.totals.requests);
    // Each thread's requests by HTTP client path, added up: every request counted once, by the path that sent it.
    const client = result.generator.httpClient!;
    expect(client.lean + client.undici).toBe(300);
    expect(client.undiciReasons).not.toContain('defaults.httpClient: undici');
  });
});

describe('generator.httpClient: requests by the HTTP client path that sent them', () => {
  /** 20 arrivals (500 ms at 40/s), two requests each. */
  const scenario = (defaults: string): string => `name: client
target: ${server.url}
${defaults}phases: [{ duration: 500ms, arrivalRate: 40 }]
flows: [{ name: a, steps: [{ get: /delay/1 }, { post: /delay/1, json: { n: 1 } }] }]
`;
  const REQUESTS = 40;

  it('auto (the default): every request by one path or the other, undici\'s share with its reasons, and the summary says so', async () => {
    const { code, stdout, result } = await runScenario(scenario(''));
    expect(code).toBe(0);
    expect(result.totals.requests).toBe(REQUESTS);
    expect((await server.stats()).count).toBe(REQUESTS);
    const client = result.generator.httpClient!;
    expect(client.lean + client.undici).toBe(REQUESTS);
    // Reasons are given exactly when undici sent some, and auto is not the undici setting.
    expect(client.undiciReasons.length > 0).toBe(client.undici > 0);
    expect(client.undiciReasons).not.toContain('defaults.httpClient: undici');
    const why = client.undici > 0 ? ` (${client.undiciReasons.join('; ')})` : '';
    expect(stdout).toContain(`\nhttp client: lean ${client.lean} · undici ${client.undici}${why}\n`);
  });

  it('defaults.httpClient: undici sends everything with undici, in every worker thread (--workers 2, built bin)', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('defaults: { httpClient: undici }\n') });
    const r = await runBin(['run', 's.yaml', '--workers', '2', '--out', 'r.json', '--no-progress'], { cwd: dir });
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.totals.requests).toBe(REQUESTS);
    expect(result.generator.httpClient).toEqual({ lean: 0, undici: REQUESTS, undiciReasons: ['defaults.httpClient: undici'] });
    expect(r.stdout).toContain(`\nhttp client: lean 0 · undici ${REQUESTS} (defaults.httpClient: undici)\n`);
  });
});
