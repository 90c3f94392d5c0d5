import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BIN, runBin, tempFiles, type CliRun } from './helpers/cli.js';
import { closedPort, useTestServer } from './helpers/test-server.js';
import { RampArrivals } from '../src/scenarios/schedule.js';
import { DEFAULT_THRESHOLDS } from '../src/scenarios/schema.js';
import { mergeEncoded, summarizeHistogram } from '../src/engine/latency-histogram.js';
import type { RunResult } from '../src/analyzers/run-result.js';

// The end-to-end check, without a cluster: `scalectl k8s job` writes the Job, and its
// container's command runs here as N processes with the environment a Job pod has
// (JOB_COMPLETION_INDEX, the ConfigMap's files under a folder, shard 1 reachable for the barrier).
// Their output, in the exact format of `kubectl logs -l job-name=<job> --prefix`, goes to
// `scalectl merge -`, whose result must match the schedule, the server, and the verdict one
// process running the whole schedule would reach (thresholds far from their limits either way).

const server = useTestServer();

/** The server answers after this long: large next to a loaded 2-core machine's few ms of noise, so 10% holds. */
const DELAY_MS = 100;
const SHARDS = 3;
/** 2 s ramping from 30/s to 90/s: every shard ramps with the others. */
const PHASE = { duration: 2, arrivalRate: 30, rampTo: 90 };
const scenario = (): string => [
  'name: distributed',
  // A pod's target: never loopback (the Job refuses it); the test sends the load to the local server instead.
  'target: http://delay.load.svc',
  'phases:',
  `  - { duration: ${PHASE.duration}s, arrivalRate: ${PHASE.arrivalRate}, rampTo: ${PHASE.rampTo} }`,
  'flows:',
  '  - name: wait',
  '    steps:',
  `      - get: /delay/${DELAY_MS}`,
  'thresholds:',
  // Far from their limits either way, so the verdict is certain: one fails (exit 4), two pass.
  `  - p50 < ${DELAY_MS * 10}ms`,
  `  - p50 < ${DELAY_MS / 2}ms`,
  '  - error_rate < 1%',
  '',
].join('\n');

type Manifest = { kind: string; data?: Record<string, string>; spec?: Record<string, unknown> };
interface PodSpec { containers: { command: string[] }[]; volumes: { configMap?: { items: { key: string; path: string }[] } }[] }

/** Runs `sh -c command` like a pod; each line of stdout and stderr, in the order it was completed, as the container log has them. */
function runPod(command: string, env: Record<string, string>, cwd: string): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.on('data', (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n');
        rest = parts.pop()!;
        lines.push(...parts);
      });
      stream.on('end', () => rest && lines.push(rest));
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shard ${env.JOB_COMPLETION_INDEX} did not exit within 40 s:\n${lines.join('\n')}`));
    }, 40_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, lines });
    });
  });
}

/** The random five characters Kubernetes appends to a Job's pod names (`dist-0-x7k2q`). */
const podSuffix = (i: number): string => (0x1f3a5 + i * 0x9e37).toString(36).slice(-5);

/** `kubectl logs -l job-name=<job> --prefix` as it prints several pods: `[pod/<pod>/<container>] ` on each line, pods' lines interleaved. */
function kubectlLogs(pods: { name: string; lines: string[] }[]): string {
  const out: string[] = [];
  for (let i = 0; pods.some((p) => i < p.lines.length); i++) {
    for (const p of pods) if (i < p.lines.length) out.push(`[pod/${p.name}/scalectl] ${p.lines[i]}`);
  }
  return out.join('\n') + '\n';
}

/** `scalectl merge -` with `text` on its standard input. */
function mergeFromStdin(text: string, args: string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'merge', '-', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(text);
  });
}

describe('a distributed run as a Kubernetes Job would run it, on this machine', () => {
  it('N shard processes started by the barrier, merged from their logs: the schedule\'s count, the server\'s delay, the merged histogram\'s percentiles, one verdict', async () => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    const gen = await runBin(['k8s', 'job', 's.yaml', '--parallelism', String(SHARDS), '--name', 'dist', '-o', 'job'], { cwd: dir });
    expect(gen.stderr).toMatch(/Kubernetes manifests written to job/);
    expect(gen.code).toBe(0);

    // The pod's world: the ConfigMap's files where the volume puts them, `scalectl` on the PATH.
    const manifests = (await Promise.all(['configmap.yaml', 'job.yaml'].map(async (f) => parseAllDocuments(await readFile(join(dir, 'job', f), 'utf8'))[0]!.toJS() as Manifest)));
    const [configMap, job] = manifests as [Manifest, Manifest];
    const pod = (job.spec!.template as { spec: PodSpec }).spec;
    const mount = join(dir, 'mount');
    for (const { key, path } of pod.volumes.find((v) => v.configMap)!.configMap!.items) {
      await mkdir(dirname(join(mount, path)), { recursive: true });
      await writeFile(join(mount, path), configMap.data![key]!);
    }
    const binDir = join(dir, 'bin');
    await mkdir(binDir);
    await symlink(BIN, join(binDir, 'scalectl'));

    // The container's command, with what only a cluster gives rewritten: the mount's path, shard 1's
    // address behind the headless Service, and the Service the target would be.
    const command = pod.containers[0]!.command;
    expect(command.slice(0, 2)).toEqual(['sh', '-c']);
    const barrierPort = await closedPort();
    const local = command[2]!
      .replaceAll('/scenario/', `${mount}/`)
      .replace(/barrier:dist-0\.dist:\d+/, `barrier:127.0.0.1:${barrierPort}`)
      + ` --target ${server.url}`;
    expect(local).not.toBe(command[2]);
    expect(local).toContain(`--start-at barrier:127.0.0.1:${barrierPort}`);

    // Pods are not scheduled together: shard 1's (the barrier's) starts last.
    const env = { PATH: `${binDir}:${process.env.PATH}` };
    const order = [...Array(SHARDS).keys()].reverse();
    const runs = await Promise.all(order.map((i) => runPod(local, { ...env, JOB_COMPLETION_INDEX: String(i) }, dir)));
    const shards = order.map((i, n) => ({ index: i, ...runs[n]! })).sort((a, b) => a.index - b.index);
    for (const s of shards) expect(s.code, `shard ${s.index + 1}:\n${s.lines.join('\n')}`).toBe(0);
    const served = (await server.stats()).count;

    const logs = kubectlLogs(shards.map((s) => ({ name: `dist-${s.index}-${podSuffix(s.index)}`, lines: s.lines })));
    const merged = await mergeFromStdin(logs, ['--out', 'merged.json'], dir);
    const m = JSON.parse(await readFile(join(dir, 'merged.json'), 'utf8')) as RunResult & { merged: { shards: number } };
    expect(m.merged.shards).toBe(SHARDS);

    // Exactly the schedule's arrivals, each one request, each seen by the server.
    const scheduled = new RampArrivals(PHASE.arrivalRate, PHASE.rampTo, PHASE.duration).count;
    expect(m.totals.requests).toBe(scheduled);
    expect(served).toBe(scheduled);
    expect(m.totals.errors).toBe(0);
    expect(Math.abs(m.totals.latencyMs.p50 - DELAY_MS)).toBeLessThanOrEqual(DELAY_MS * 0.1);
    // The seconds add up to the totals: every request is in exactly one merged second.
    expect(m.timeseries.reduce((n, p) => n + p.rps, 0)).toBe(m.totals.requests);
    // Each shard's generator, by its index.
    expect(m.generator.shards!.map((g) => g.index)).toEqual(Array.from({ length: SHARDS }, (_, i) => i + 1));
    // The merged percentiles are those of the merged histogram (the shards' histograms added), not averages of the shards'.
    expect(m.totals.latencyMs).toEqual(summarizeHistogram(mergeEncoded(Object.values(m.histograms))));

    // The verdict one process would reach: the thresholds are far from their limits, so it is certain.
    // (Open-model runs also get the default thresholds; no arrival is dropped at this rate.)
    expect(m.thresholds.map((t) => [t.expression, t.ok])).toEqual([
      [`p50 < ${DELAY_MS * 10}ms`, true], [`p50 < ${DELAY_MS / 2}ms`, false], ['error_rate < 1%', true],
      ...DEFAULT_THRESHOLDS.map((t) => [t, true]),
    ]);
    expect(m.passed).toBe(false);
    expect(merged.code).toBe(4);
  });
});
