import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { ExitCode } from '../src/exit-codes.js';
import { RampArrivals } from '../src/scenarios/schedule.js';
import { runBin, runCli, tempFiles } from './helpers/cli.js';
import { closedPort, useTestServer } from './helpers/test-server.js';

/** 20 arrivals ramping 10 → 30/s over 1 s, then 10 at 10/s: 30 in all, each with its own data row. */
const PHASES = [{ rate: 10, rampTo: 30 }, { rate: 10, rampTo: 10 }];
const ARRIVALS = PHASES.reduce((n, p) => n + new RampArrivals(p.rate, p.rampTo, 1).count, 0);
const ROWS = 'id\n' + Array.from({ length: ARRIVALS }, (_, i) => `u${i}`).join('\n') + '\n';

const scenario = (target: string, extra = ''): string => `
name: sharded
target: ${target}
phases:
${PHASES.map((p) => `  - { duration: 1s, arrivalRate: ${p.rate}, rampTo: ${p.rampTo} }`).join('\n')}
data: { users: { file: users.csv, order: sequential } }
flows: [{ name: f, steps: [{ get: "/items/{{ users.id }}" }] }]
thresholds: ["p99 < 1us"]
${extra}`;

/** This test's own reading of a `--out -` frame (scalectl merge has the reader proper). */
function unframe(stdout: string): { source: string; json: string } {
  const m = /^-----BEGIN SCALECTL RESULT (\S+) ([0-9a-f]{64})-----\n([\s\S]*?)\n-----END SCALECTL RESULT-----$/m.exec(stdout);
  expect(m).not.toBeNull();
  const json = gunzipSync(Buffer.from(m![3]!.replace(/\n/g, ''), 'base64')).toString('utf8');
  expect(createHash('sha256').update(json).digest('hex')).toBe(m![2]);
  return { source: m![1]!, json };
}

describe('run --shard I/N --start-at barrier:HOST:PORT', () => {
  const server = useTestServer();

  it('two shards (of 1 and 2 workers) meet at the barrier and together send the schedule once, each data row once', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url), 'users.csv': ROWS });
    const barrier = `barrier:127.0.0.1:${await closedPort()}`;
    const [one, two] = await Promise.all([
      runBin(['run', 's.yaml', '--shard', '1/2', '--start-at', barrier, '--no-progress', '--out', 'r1.json', '--junit', 'j.xml'], { cwd: dir }),
      runBin(['run', 's.yaml', '--shard', '2/2', '--workers', '2', '--start-at', barrier, '--no-progress', '--out', '-'], { cwd: dir }),
    ]);
    // Thresholds are not a shard's verdict: p99 < 1us fails on each, and each exits 0.
    expect(one.code, one.stderr).toBe(ExitCode.ok);
    expect(two.code, two.stderr).toBe(ExitCode.ok);
    expect(one.stdout).toMatch(/DONE: shard 1 of 2, thresholds not judged/);
    expect(one.stderr).toMatch(/waiting for shards at barrier: 2 of 2 arrived/);
    expect(await readFile(join(dir, 'j.xml'), 'utf8')).toMatch(/<skipped message="not judged: a shard saw a slice of the load; scalectl merge judges the thresholds over all shards"/);
    const r1 = JSON.parse(await readFile(join(dir, 'r1.json'), 'utf8')) as RunResult;
    const framed = unframe(two.stdout);
    expect(framed.source).toBe('2/2');
    const r2 = JSON.parse(framed.json) as RunResult;

    expect(r1.totals.requests + r2.totals.requests).toBe(ARRIVALS);
    const stats = await server.stats();
    expect(stats.count).toBe(ARRIVALS);
    expect(Object.keys(stats.paths).sort()).toEqual(Array.from({ length: ARRIVALS }, (_, i) => `/items/u${i}`).sort());
    expect(Object.values(stats.paths).every((n) => n === 1)).toBe(true);

    expect(r1.shard).toMatchObject({ index: 1, count: 2, workers: 1 });
    expect(r2.shard).toMatchObject({ index: 2, count: 2, workers: 2, scenarioHash: r1.shard!.scenarioHash, startAt: r1.shard!.startAt });
    expect(r1.startedAt).toBe(r1.shard!.startAt);
    // Started on the agreed instant (the barrier gives seconds of lead): well within a second.
    for (const r of [r1, r2]) expect(r.shard!.startLateMs).toBeLessThan(1000);
    for (const r of [r1, r2]) {
      expect(r.passed).toBe(true);
      expect(r.thresholds.find((t) => t.expression === 'p99 < 1us')?.ok).toBe(false);
      // Each second with requests carries its histogram.
      expect(r.timeseries.filter((p) => p.rps > 0).every((p) => typeof p.histogram === 'string')).toBe(true);
      // No idle second past the schedule (2 s): with 2 workers one engine's window timer may fire just before its end.
      expect(r.timeseries.filter((p) => p.t >= 2 && p.rps + p.offeredRps + p.achievedRps + p.dropped + p.inFlight === 0)).toEqual([]);
    }
  });

  it('a shard of another scenario at the barrier: both exit 3, naming the mismatch', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url), 'other.yaml': scenario(server.url, '# edited'), 'users.csv': ROWS });
    const barrier = `barrier:127.0.0.1:${await closedPort()}`;
    const [one, two] = await Promise.all([
      runBin(['run', 's.yaml', '--shard', '1/2', '--start-at', barrier, '--no-progress'], { cwd: dir }),
      runBin(['run', 'other.yaml', '--shard', '2/2', '--start-at', barrier, '--no-progress'], { cwd: dir }),
    ]);
    for (const r of [one, two]) {
      expect(r.code, r.stderr).toBe(ExitCode.invalidInput);
      expect(r.stderr).toMatch(/shard 2 runs another scenario than shard 1 \(scenario hash [0-9a-f]{12}… against [0-9a-f]{12}…\)/);
    }
    expect((await server.stats()).count).toBe(0);
  });

  it('a shard missing at the barrier: exit 10 after --barrier-timeout, naming it, no load sent', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url), 'users.csv': ROWS });
    const r = await runBin(['run', 's.yaml', '--shard', '1/2', '--start-at', `barrier:127.0.0.1:${await closedPort()}`, '--barrier-timeout', '1s', '--no-progress'], { cwd: dir });
    expect(r.code, r.stderr).toBe(ExitCode.shardsNotStarted);
    expect(r.stderr).toMatch(/scalectl: only 1 of 2 shards arrived within 1s; missing: 2/);
    expect((await server.stats()).count).toBe(0);
  });

  it('a start already past starts at once and says how late; Ctrl-C while waiting for the start sends nothing (exit 5)', async () => {
    const dir = await tempFiles({ 's.yaml': `name: late\ntarget: ${server.url}\nphases: [{ duration: 500ms, arrivalRate: 10 }]\nflows: [{ name: f, steps: [{ get: /items/1 }] }]\n` });
    const agreed = Date.now() - 3000;
    const late = await runCli(['run', 's.yaml', '--shard', '1/1', '--start-at', String(agreed), '--no-progress', '--out', 'r.json'], { cwd: dir });
    expect(late.code, late.stderr).toBe(ExitCode.ok);
    expect(late.stderr).toMatch(/warning: the first phase began [\d.]+s after the agreed start/);
    const r = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(r.shard!.startAt).toBe(new Date(agreed).toISOString());
    expect(r.shard!.startLateMs).toBeGreaterThanOrEqual(3000);
    // startedAt is whole milliseconds, startLateMs rounded.
    expect(Math.abs(Date.parse(r.startedAt) - (agreed + r.shard!.startLateMs))).toBeLessThanOrEqual(1);
    expect(r.totals.requests).toBe(5);

    await server.reset();
    const controller = new AbortController();
    controller.abort();
    const stopped = await runCli(['run', 's.yaml', '--start-at', String(Math.round(Date.now() / 1000) + 3600), '--no-progress'], { cwd: dir, signal: controller.signal });
    expect(stopped.code).toBe(ExitCode.aborted);
    expect(stopped.stderr).toMatch(/stopped before the start; no load was sent/);
    expect((await server.stats()).count).toBe(0);
  });

  it('refuses bad shard flags with exit 2 before any work', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url), 'users.csv': ROWS });
    const run = (...args: string[]) => runCli(['run', 's.yaml', '--no-progress', ...args], { cwd: dir });
    for (const shard of ['0/4', '5/4', 'x', '1/1001']) {
      const r = await run('--shard', shard);
      expect(r.code, shard).toBe(ExitCode.usage);
      expect(r.stderr).toMatch(/--shard/);
    }
    expect((await run('--start-at', 'barrier:127.0.0.1:7070')).stderr).toMatch(/needs --shard I\/N/);
    expect((await run('--shard', '1/2', '--barrier-timeout', '5s')).stderr).toMatch(/--barrier-timeout needs --start-at barrier/);
    expect((await run('--start-at', '2026-12-03T10:00:00')).stderr).toMatch(/give the time zone/);
    // Past setTimeout's limit (24.8 days) a wait would end at once: refused before any work.
    const far = await run('--start-at', String(Math.round(Date.now() / 1000) + 30 * 86_400));
    expect([far.code, far.stderr]).toEqual([ExitCode.usage, expect.stringMatching(/--start-at \d+ is (29|30) days ahead; a start at most 7 days ahead is taken/)]);
    const long = await run('--shard', '1/2', '--start-at', 'barrier:127.0.0.1:7070', '--barrier-timeout', '900h');
    expect([long.code, long.stderr]).toEqual([ExitCode.usage, expect.stringMatching(/--barrier-timeout 900h: at most 24h/)]);
    expect((await server.stats()).count).toBe(0);
  });
});
