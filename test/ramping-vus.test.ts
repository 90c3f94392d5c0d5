import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from '../src/analyzers/run-result.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBin, runScenario, tempFiles } from './helpers/cli.js';

/**
 * A server that answers after 40 ms and notes, as each request arrives, how
 * many are in flight (itself included): in a closed loop of one request per
 * iteration, that is the number of virtual users running.
 */
let server: Server;
let url = '';
let active = 0;
/** Arrival times (epoch ms, as results' startedAt) and VUs running. */
let samples: { t: number; active: number }[] = [];
/** The run's t = 0, epoch ms. */
let start = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    active++;
    samples.push({ t: performance.timeOrigin + performance.now(), active });
    req.resume();
    setTimeout(() => {
      active--;
      res.end();
    }, req.url === '/slow' ? 300 : 40);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  samples = [];
});

/**
 * Most VUs seen running between from and to seconds into the run. Measured
 * from the run's start, not from the first request: an engine thread that
 * starts late (a busy machine) then starts the VUs already due at once, which
 * stays under the line but would crowd the first requests.
 */
function most(from: number, to: number): number {
  return Math.max(0, ...samples.filter((s) => s.t - start >= from * 1000 && s.t - start < to * 1000).map((s) => s.active));
}

const scenario = (phase: string, path = '/x') => `name: ramp
target: ${url}
phases: [${phase}]
flows: [{ name: f, steps: [{ get: ${path} }] }]
`;

/** The VUs running follow the ramp 1 → 8 over 2 s: round(1 + 3.5 t), never more than 8. */
function expectRampUp(): void {
  expect(Math.max(...samples.map((s) => s.active))).toBeLessThanOrEqual(8);
  // Expected 1 to 2 in the first quarter second (margins for a busy machine are on the generous side everywhere).
  expect(most(0, 0.25)).toBeLessThanOrEqual(3);
  expect(most(1.0, 1.3)).toBeGreaterThanOrEqual(3);
  expect(most(1.0, 1.3)).toBeLessThanOrEqual(6);
  // Expected 7 to 8 in the last 0.3 s.
  expect(most(1.7, 2.1)).toBeGreaterThanOrEqual(6);
  // The line's area is 9 VU-seconds: at 40 ms a request (a timer may fire up to 1 ms early), at most
  // 9 / 0.039 + 8 (one started at each VU's end) = 239 requests; 8 VUs all along would send up to 400.
  expect(samples.length).toBeLessThanOrEqual(240);
}

describe('ramping VUs (vus + rampTo)', () => {
  it('ramps up linearly, one engine thread', async () => {
    const { code, result } = await runScenario(scenario('{ duration: 2s, vus: 1, rampTo: 8 }'));
    start = Date.parse(result.startedAt);
    expect(code).toBe(0);
    expect(result.totals.errors).toBe(0);
    expectRampUp();
  });

  it('ramps down: VUs above the line stop after their current iteration', async () => {
    const { result } = await runScenario(scenario('{ duration: 1.5s, vus: 8, rampTo: 0 }'));
    start = Date.parse(result.startedAt);
    // round(8 − 5.33 t): 8 at first, 0 from 1.41 s.
    expect(most(0, 0.2)).toBeGreaterThanOrEqual(6);
    expect(Math.max(...samples.map((s) => s.active))).toBeLessThanOrEqual(8);
    // Expected 3 at 0.9 s, going down (1 more for a request a busy generator sent just before its VU's time was up).
    expect(most(0.9, 1.5)).toBeLessThanOrEqual(4);
    // The line's area is 6 VU-seconds: at most 6 / 0.039 + 8 = 162 requests (8 VUs to the end would send up to 300).
    expect(samples.length).toBeLessThanOrEqual(165);
  });

  it("at a boundary between vus phases, a VU of the new phase waits for the old one's iteration: never twice the count", async () => {
    // 300 ms iterations: at 1 s every old VU is mid-request; starting the new ones beside them would make 8.
    const { code, result } = await runScenario(scenario('{ duration: 1s, vus: 4 }, { duration: 1s, vus: 4 }', '/slow'));
    start = Date.parse(result.startedAt);
    expect(code).toBe(0);
    expect(Math.max(...samples.map((s) => s.active))).toBeLessThanOrEqual(4);
    // The second phase does run its 4 VUs.
    expect(most(1.2, 2)).toBe(4);
  });

  it('splits every instant exactly across --workers 2 (built bin)', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('{ duration: 2s, vus: 1, rampTo: 8 }') });
    const r = await runBin(['run', 's.yaml', '--workers', '2', '--no-progress', '--out', 'r.json'], { cwd: dir });
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    start = Date.parse((JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult).startedAt);
    expectRampUp();
  });
});
