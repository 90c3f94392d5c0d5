import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapacityResult } from '../src/capacity/capacity-result.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { startSlotServer } from './helpers/slot-server.js';

const scenario = (target: string, rate = 40): string => `
name: slots
target: ${target}
phases:
  - { duration: 10s, arrivalRate: ${rate} }
flows:
  - name: work
    steps:
      - get: /work
`;

async function capacity(yaml: string, args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string; result?: CapacityResult; dir: string }> {
  const dir = await tempFiles({ 's.yaml': yaml });
  const r = await runCli(['capacity', 's.yaml', '--out', 'cap.json', ...args], { cwd: dir, signal });
  if (r.stderr.includes('internal error')) throw new Error(r.stderr);
  const text = await readFile(join(dir, 'cap.json'), 'utf8').catch(() => undefined);
  return { ...r, dir, result: text === undefined ? undefined : (JSON.parse(text) as CapacityResult) };
}

describe('scalectl capacity against a service of known capacity', () => {
  // 16 requests at a time, 100 ms each: 160 requests per second, and queueing beyond.
  // (A long service time keeps the timer's lateness, a millisecond or two, to 1-2% of it.)
  let server: Awaited<ReturnType<typeof startSlotServer>>;
  beforeAll(async () => {
    server = await startSlotServer(16, 100);
  });
  afterAll(() => server.close());

  it('finds the knee within 10% of slots / service time', async () => {
    // --max-rate 200 (25% over the truth) still fails above the knee, without the overloads at 320 and 240 it/s.
    const r = await capacity(scenario(server.url), ['--replicas', '1', '--warmup', '1s', '--steady', '3s', '--slo', 'p99<250ms', '--max-rate', '200']);
    expect(r.code, r.stderr).toBe(0);
    const count = r.result!.replicaCounts[0]!;
    expect(count.outcome).toBe('converged');
    expect(count.knee).toBeGreaterThanOrEqual(144);
    expect(count.knee).toBeLessThanOrEqual(176);
    // The bracket is within the precision, and the first failure is above the knee.
    expect((count.firstFailure! - count.knee!) / count.knee!).toBeLessThanOrEqual(0.05);
    // Each step's verdict is explained; a failure names what broke.
    for (const s of count.steps.filter((x) => !x.passed)) expect(s.reasons.length).toBeGreaterThan(0);
    expect(count.steps.filter((x) => x.passed).every((x) => x.rate <= count.knee!)).toBe(true);
    // One count: linear model, said so; the recommendation covers the scenario's peak (40/s) with 25% headroom.
    expect(r.result!.plan.model).toMatchObject({ kind: 'linear' });
    expect(r.result!.plan.replicas).toMatchObject({ feasible: true, replicas: 1, minReplicas: 1 });
    expect(r.result!.warnings.join()).toMatch(/linear scaling assumed/);
    expect(r.stdout).toContain('knee');
    expect(r.stderr).toMatch(/step 1 \(probe, bracket – \.\. – it\/s\): 40 it\/s/);
    // Not the reference stack: Kubernetes' timings with the default start-up; consumers as the web count.
    expect(r.result!.settings.autoscaler).toMatchObject({ source: 'kubernetes defaults', syncSec: 15, podStartupSec: 30 });
    expect(r.result!.settings.consumers).toBeNull();
    // The scenario's 10 s at 40 it/s, simulated second by second: one replica, far under its knee.
    const surge = r.result!.plan.surge!;
    expect(surge).toMatchObject({ applies: true, profile: 'scenario', breaches: [], advice: null });
    expect(surge.seconds).toHaveLength(10);
    expect(surge.seconds.every((x) => x.rate === 40 && x.web.ready === 1)).toBe(true);
    expect(surge.sentence).toMatch(/^no breach expected: the HPA does not scale up \(1 replica throughout\)/);
    expect(r.stdout).toContain(surge.sentence);
  });
});

describe('scalectl capacity --scale-cmd', () => {
  // 8 slots per "replica", 100 ms each: 80/s per replica. The scale command sets the slots.
  let server: Awaited<ReturnType<typeof startSlotServer>>;
  beforeAll(async () => {
    server = await startSlotServer(8, 100);
  });
  afterAll(() => server.close());
  const scaleCmd = (url: string): string =>
    `"${process.execPath}" -e "fetch('${url}/__slots?n=' + 8 * {n}, { method: 'POST' }).then((r) => process.exit(r.ok ? 0 : 1))"`;

  it('Ctrl-C keeps what was measured: the interrupted step is dropped, capacity.json is written, exit 5', async () => {
    const controller = new AbortController();
    // The first step (40/s for 0.5 s + 3 s) ends well before this; the abort lands in a later one.
    const timer = setTimeout(() => controller.abort(), 6000);
    const r = await capacity(scenario(server.url), ['--replicas', '1,2', '--warmup', '500ms', '--steady', '3s', '--slo', 'p99<250ms',
      '--scale-cmd', scaleCmd(server.url), '--ready-url', `${server.url}/__ready`], controller.signal);
    clearTimeout(timer);
    expect(r.code, r.stderr).toBe(5);
    expect(r.result!.aborted).toBe(true);
    const counts = r.result!.replicaCounts;
    expect(counts.map((c) => c.replicas)).toEqual([1]);
    expect(counts[0]!.outcome).toBe('interrupted');
    // Every kept step ran to its end: none is marked stopped.
    for (const step of counts[0]!.steps) expect(step.reasons.join()).not.toMatch(/stopped before the end/);
    // An interrupted count is not modelled.
    expect(r.result!.plan.model).toBeNull();
    expect(r.stdout).toMatch(/interrupted/);
  });

  it('exits 7 with the command\'s output when the scale command fails', async () => {
    const r = await capacity(scenario(server.url), ['--replicas', '1,2', '--scale-cmd', 'echo no such cluster {n} >&2; exit 3', '--ready-url', `${server.url}/__ready`]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/--scale-cmd "echo no such cluster 1 >&2; exit 3" failed \(exit 3\): no such cluster 1/);
    // capacity.json says the measurement stopped on an error.
    expect(r.result!.error).toMatchObject({ exitCode: 7 });
    expect(r.result!.replicaCounts).toEqual([]);
  });
});

describe('scalectl capacity flags', () => {
  it.each([
    [['--replicas', '0'], /whole numbers from 1 to 1000/],
    [['--replicas', '1', '--slo', 'p99 < fast'], /--slo "p99 < fast": expected a duration/],
    [['--replicas', '1', '--peak-rps', '10', '--surge', '2x'], /either --peak-rps or --surge/],
    [['--replicas', '1', '--surge', 'lots'], /--surge takes a factor/],
    [['--replicas', '1', '--headroom', '2'], /--headroom takes a percentage/],
    [['--replicas', '1', '--steady', '1s'], /--steady takes a duration .* \(at least 3 s\)/],
    [['--replicas', '1', '--scale-cmd', 'kubectl scale'], /--scale-cmd needs --ready-url/],
    [['--replicas', '1', '--scale-cmd', 'kubectl scale', '--ready-url', 'http://127.0.0.1:1/'], /must contain \{n\}/],
    [['--replicas', '1,2'], /needs --scale-cmd/],
    [['--replicas', '1', '--ready-url', 'http://127.0.0.1:1/'], /--ready-url goes with --scale-cmd/],
    [['--replicas', '1', '--max-rate', '10'], /the first rate tried \(40\/s, the base rate\) is above --max-rate 10/],
    [['--replicas', '1', '--out', 'no/such/dir/cap.json'], /--out \S*no\/such\/dir\/cap.json: not writable/],
    [['--replicas', '1', '--slo', 'wrok: p99<100ms'], /--slo "wrok: p99<100ms": no endpoint or flow named "wrok" in the scenario; names: work, GET \/work/],
    [['--replicas', '1', '--steady', '10s', '--max-steady', '5s'], /--max-steady 5s is shorter than --steady/],
    [['--replicas', '1', '--redis-address', 'redis://x:6379'], /--redis-address redis:\/\/x:6379: /],
  ])('%j is a usage error', async (args, message) => {
    const r = await capacity(scenario('http://127.0.0.1:1'), args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--emit-k8s into a directory that holds a kustomization of its own is a usage error, before anything is measured', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('http://127.0.0.1:1') });
    await mkdir(join(dir, 'overlay'));
    await writeFile(join(dir, 'overlay', 'kustomization.yaml'), 'resources: []\n');
    const r = await runCli(['capacity', 's.yaml', '-r', '1', '--emit-k8s', 'overlay'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^scalectl: --emit-k8s overlay holds kustomization\.yaml, a kustomization not written by scalectl: .* Emit into a directory of its own \(e\.g\. overlay\/autoscaling\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
