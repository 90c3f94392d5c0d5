import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CapacityResult } from '../src/capacity/capacity-result.js';
import { simulateSurge } from '../src/capacity/surge-simulation.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

/*
 * `capacity --verify --plan`: a saved plan replayed against a service on
 * loopback, judged by the SLOs per window. The service answers /delay/<ms>
 * after that many milliseconds, so the SLOs hold or break by construction.
 */

const server = useTestServer();

const scenario = (target: string, path: string): string => `
name: verify-me
target: ${target}
phases:
  - { name: steady, duration: 6s, arrivalRate: 50 }
flows:
  - name: work
    steps:
      - get: ${path}
`;

/** A saved capacity.json whose plan recommends 1–2 replicas, with its surge predicted for the scenario's 6 s at 50 it/s. */
async function savedPlan(slo = 'p99 < 100ms'): Promise<CapacityResult> {
  const base = JSON.parse(await readFile(new URL('./fixtures/capacity-result.json', import.meta.url), 'utf8')) as CapacityResult;
  const surge = simulateSurge({
    phases: [{ kind: 'open', durationSec: 6, fromRate: 50, toRate: 50 }], profile: 'scenario',
    autoscaler: { syncSec: 15, tolerance: 0.1, scaleDownWindowSec: 300, scaleUpPods: 4, scaleUpPercent: 100, scaleUpPeriodSec: 15, podStartupSec: 0, pollingSec: 30, cooldownSec: 300, source: 'kubernetes defaults' },
    web: { minReplicas: 1, maxReplicas: 2, targetUtilization: 0.6, cpuAtKneeOverRequest: 1, utilizationCap: null, cpuRequestMillicores: 500 },
    kneePerReplica: () => 100,
  });
  return {
    ...base,
    scenario: { name: 'verify-me', file: 's.yaml' },
    settings: { ...base.settings, slos: [slo], scenarioThresholds: false },
    plan: { ...base.plan, verdict: 'recommended', reasons: ['1 replica'], remeasure: [], surge },
  };
}

async function verify(path: string, extra: string[] = [], slo?: string): Promise<{ code: number; stdout: string; stderr: string; result?: CapacityResult; dir: string }> {
  const dir = await tempFiles({ 's.yaml': scenario(server.url, path) });
  await writeFile(join(dir, 'plan.json'), JSON.stringify(await savedPlan(slo)));
  const r = await runCli(['capacity', 's.yaml', '--verify', '--plan', 'plan.json', '--target', server.url, '--out', 'verified.json', ...extra], { cwd: dir });
  if (r.stderr.includes('internal error')) throw new Error(r.stderr);
  const text = await readFile(join(dir, 'verified.json'), 'utf8').catch(() => undefined);
  return { ...r, dir, result: text === undefined ? undefined : (JSON.parse(text) as CapacityResult) };
}

describe('scalectl capacity --verify --plan', () => {
  it('holds when every window meets the SLOs: exit 0, verification in capacity.json and on the terminal; --apply-cmd runs first, then --ready-url is awaited', async () => {
    // A generous SLO for answers in 2 ms: a busy machine's pauses must not break it.
    const r = await verify('/delay/2', ['--html', 'report.html', '--apply-cmd', 'echo applied > applied.txt', '--ready-url', `${server.url}/delay/1`], 'p99 < 1s');
    expect(r.stderr).toContain('verify: running --apply-cmd');
    expect(await readFile(join(r.dir, 'applied.txt'), 'utf8')).toBe('applied\n');
    expect(r.code).toBe(0);
    const html = await readFile(join(r.dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>The surge, verified</h2>');
    expect(html).toContain('Replicas predicted and observed');
    const v = r.result!.verification!;
    expect(v.held).toBe(true);
    expect(v.breaches).toEqual([]);
    // The SLO, and the default dropped_rate: a surge that drops arrivals did not hold.
    expect(v.slos).toEqual([expect.objectContaining({ expression: 'p99 < 1s', ok: true }), expect.objectContaining({ expression: 'dropped_rate <= 1%', ok: true })]);
    expect(v.verdict).toBe('held');
    // No telemetry on this target: no replicas seen, and it says so rather than claim a timing.
    expect(v.warnings.join('\n')).toMatch(/no replica counts/);
    expect(v.firstScaleUp?.withinSyncPeriod).toBeNull();
    expect(r.stdout).toContain('HELD');
    expect(r.stderr).toContain('verify: replaying verify-me');
  }, 60_000);

  it('breaks when the answers are slower than the SLO during the replay: exit 4 with the breach and its seconds', async () => {
    const r = await verify('/delay/150');
    expect(r.code).toBe(4);
    const v = r.result!.verification!;
    expect(v.held).toBe(false);
    expect(v.breaches.length).toBeGreaterThan(0);
    expect(v.breaches[0]).toMatchObject({ expression: 'p99 < 100ms', fromSec: 0 });
    expect(v.summary).toMatch(/broke during the surge/);
    expect(r.stdout).toContain('BROKE');
    // The replay, second by second, for the report's chart.
    expect(v.timeline.length).toBeGreaterThanOrEqual(5);
    expect(v.timeline.every((p) => p.p99 >= 150)).toBe(true);
  }, 60_000);

  it('a failing --apply-cmd is exit 7, and nothing is replayed', async () => {
    const bad = await verify('/delay/2', ['--apply-cmd', 'echo nope >&2; exit 3', '--ready-url', `${server.url}/delay/1`]);
    expect(bad.code).toBe(7);
    expect(bad.stderr).toMatch(/--apply-cmd "echo nope >&2; exit 3" failed \(exit 3\): nope/);
    expect((await server.stats()).paths['/delay/2']).toBeUndefined();
  }, 60_000);

  it('refuses flags that do not go together (exit 2)', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '/delay/1') });
    expect((await runCli(['capacity', 's.yaml', '--plan', 'plan.json'], { cwd: dir })).stderr).toMatch(/--plan verifies a saved capacity.json: give --verify/);
    expect((await runCli(['capacity', 's.yaml', '--verify', '--plan', 'p.json', '--replicas', '1'], { cwd: dir })).code).toBe(2);
    const slo = await runCli(['capacity', 's.yaml', '--verify', '--plan', 'p.json', '--slo', 'p99<1s', '--surge', '3x'], { cwd: dir });
    expect(slo.stderr).toMatch(/--plan verifies the saved plan as it was measured and planned: leave out --slo, --surge/);
    expect((await runCli(['capacity', 's.yaml', '--replicas', '1', '--apply-cmd', 'true'], { cwd: dir })).stderr).toMatch(/--apply-cmd .* give --verify/);
    expect((await runCli(['capacity', 's.yaml', '--replicas', '1', '--verify', '--apply-cmd', 'true'], { cwd: dir })).stderr).toMatch(/--apply-cmd needs --ready-url/);
  });

  it('says why a plan that is not a recommendation is not verified, and keeps its exit code', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '/delay/1') });
    const plan = await savedPlan();
    await writeFile(join(dir, 'plan.json'), JSON.stringify({ ...plan, plan: { ...plan.plan, verdict: 'inconclusive' } }));
    const r = await runCli(['capacity', 's.yaml', '--verify', '--plan', 'plan.json', '--target', server.url], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('not verified: the plan is inconclusive, not a recommendation');
    expect((await server.stats()).count).toBe(0);
  });

  it('refuses to run a plan on the reference stack that it could not run as simulated (CPU not measured): exit 4, no stack started', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('reference', '/api/products') });
    const plan = await savedPlan();
    const surge = { ...plan.plan.surge!, settings: { ...plan.plan.surge!.settings, web: { ...plan.plan.surge!.settings.web, cpuRequestMillicores: null } } };
    await writeFile(join(dir, 'plan.json'), JSON.stringify({ ...plan, plan: { ...plan.plan, surge } }));
    const r = await runCli(['capacity', 's.yaml', '--verify', '--plan', 'plan.json'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('not verified: CPU was not measured');
    expect(r.stderr).not.toContain('starting the reference stack');
  });

  it('a recommendation without a surge prediction (a capacity.json from before it) is not a pass: exit 4, and nothing is replayed', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '/delay/1') });
    const old = JSON.parse(await readFile(new URL('./fixtures/capacity-result.json', import.meta.url), 'utf8')) as CapacityResult;
    await writeFile(join(dir, 'plan.json'), JSON.stringify({ ...old, scenario: { name: 'verify-me', file: 's.yaml' }, plan: { ...old.plan, verdict: 'recommended' } }));
    const r = await runCli(['capacity', 's.yaml', '--verify', '--plan', 'plan.json', '--target', server.url], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('not verified: the plan has no surge prediction');
    expect((await server.stats()).count).toBe(0);
  });
});
