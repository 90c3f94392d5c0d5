import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { runCli, tempFiles } from './helpers/cli.js';
import { buildProgram } from '../src/cli.js';
import { K8S_JOB_DEFAULTS } from '../src/reporters/k8s-job.js';
import { DEFAULT_BARRIER_TIMEOUT, DEFAULT_BARRIER_TIMEOUT_MS } from '../src/commands/shard-options.js';
import { configMapKeys, maxJobName } from '../src/commands/k8s-job.js';

const scenario = (target = 'http://shop.load.svc', extra = ''): string =>
  `name: Flash Sale\ntarget: ${target}\nphases:\n  - { duration: 30s, arrivalRate: 10 }\n  - { duration: 1m, arrivalRate: 20 }\nflows:\n  - name: f\n    steps:\n      - get: /x\n${extra}`;

type Doc = Record<string, unknown>;
const docsOf = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc);
const jobOf = (text: string): Job => new Job(docsOf(text)[2] as ConstructorParameters<typeof Job>[0]);

describe('scalectl k8s job', () => {
  it('writes the three manifests to stdout, named after the scenario, the deadline from the schedule, the barrier wait and the margin', async () => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    const r = await runCli(['k8s', 'job', 's.yaml', '--parallelism', '3'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const docs = docsOf(r.stdout);
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Service', 'Job']);
    const job = jobOf(r.stdout);
    expect(() => job.validate()).not.toThrow();
    expect(job.metadata!.name).toBe('scalectl-flash-sale');
    // 30 s + 60 s of schedule, the barrier timeout, the default request timeout (10 s), the margin.
    expect(job.spec!.activeDeadlineSeconds).toBe(90 + DEFAULT_BARRIER_TIMEOUT_MS / 1000 + 10 + K8S_JOB_DEFAULTS.deadlineMarginSeconds);
    expect(job.spec!.template.spec!.containers[0]!.resources!.requests).toEqual({ cpu: String(K8S_JOB_DEFAULTS.cpuPerWorker), memory: K8S_JOB_DEFAULTS.memory });
    expect(job.spec!.template.spec!.containers[0]!.command![2]).toContain('--shard $((JOB_COMPLETION_INDEX+1))/3 --start-at barrier:scalectl-flash-sale-0.scalectl-flash-sale:7070 --out -');
  });

  it('passes --target, --workers, --barrier-timeout and the flags after -- to every pod; --cpu follows the workers', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('reference') });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2', '--name', 'run1', '-n', 'load', '-t', 'http://shop.load.svc', '-w', '2', '--barrier-timeout', '2m', '--image', 'reg.test/scalectl:1', '--', '--connections', '64'], { cwd: dir });
    // target: reference without telemetry: would scrape the reference stack's metrics through the Service.
    expect(r.stderr).toMatch(/^warning: shard 1 will read the target's metrics at http:\/\/shop\.load\.svc\/metrics: /);
    const job = jobOf(r.stdout);
    const c = job.spec!.template.spec!.containers[0]!;
    expect(c.command![2]).toMatch(/--out - --target http:\/\/shop\.load\.svc --workers 2 --barrier-timeout 2m --connections 64$/);
    expect(c.image).toBe('reg.test/scalectl:1');
    expect(c.resources!.requests!.cpu).toBe(String(2 * K8S_JOB_DEFAULTS.cpuPerWorker));
    expect(job.metadata).toMatchObject({ name: 'run1', namespace: 'load' });
    expect(job.spec!.activeDeadlineSeconds).toBe(90 + 120 + 10 + K8S_JOB_DEFAULTS.deadlineMarginSeconds);
  });

  it.each([
    ['target: reference, no telemetry: section (the shop\'s defaults)', 'reference', '', /^warning: shard 1 will read the target's metrics at http:\/\/shop\.load\.svc\/metrics: if that is a Service, each scrape reaches one of its pods \(never the shop's order consumers\), so counters seem to reset and telemetry thresholds are judged on partial figures; give the scenario a telemetry: section that queries Prometheus \(promql:, docs\/telemetry\.md#services-under-kubernetes-with-prometheus\)\n$/],
    ['a telemetry: section without a source of its own', 'http://shop.load.svc', 'telemetry: { interval: 2s }\n', /^warning: shard 1 will read the target's metrics at http:\/\/shop\.load\.svc\/metrics: if that is a Service, each scrape reaches one of its pods, so/],
    ['telemetry from Prometheus (promql:)', 'reference', 'telemetry:\n  promql: { url: http://prometheus.monitoring:9090 }\n  metrics:\n    cacheHits: { query: \'sum(shop_cache_requests_total{result="hit"})\' }\n', /^$/],
    ['telemetry scraped where the scenario says (prometheus:)', 'reference', 'telemetry: { prometheus: [http://10.0.0.1:9464/metrics, http://10.0.0.2:9464/metrics] }\n', /^$/],
    ['no telemetry', 'http://shop.load.svc', '', /^$/],
  ])('warns, once, when shard 1 would scrape telemetry through the target: %s', async (_what, target, extra, warning) => {
    const dir = await tempFiles({ 's.yaml': scenario(target) + extra });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2', '-t', 'http://shop.load.svc'], { cwd: dir });
    expect(r.stderr).toMatch(warning);
    expect(r.code).toBe(0);
  });

  it('validates the scenario first: exit 3 with file:line:col, nothing written', async () => {
    const dir = await tempFiles({ 's.yaml': scenario().replace('arrivalRate: 10', 'arrivalRate: ten') });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^s\.yaml:4:\d+ phases\[0\]/m);
  });

  it.each([
    ['reference', /the scenario's target is "reference": a Job's pods cannot start the embedded reference stack; deploy the shop/],
    ['http://127.0.0.1:3000', /the scenario's target http:\/\/127\.0\.0\.1:3000 is this machine's loopback address, and in a pod it names the pod itself/],
    ['http://localhost:3000', /loopback/],
    ['http://[::1]:3000', /loopback/],
  ])('refuses target %s (exit 2), and says what to do', async (target, message) => {
    const dir = await tempFiles({ 's.yaml': scenario(target) });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a loopback --target too', async () => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2', '--target', 'http://127.0.0.1:8080'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^scalectl: --target http:\/\/127\.0\.0\.1:8080 is this machine's loopback address/);
  });

  it('puts the data files in the ConfigMap at the paths the scenario names, ../ included, and writes -o dir/', async () => {
    const dir = await tempFiles({});
    await mkdir(join(dir, 'scenarios', 'data'), { recursive: true });
    await mkdir(join(dir, 'shared'));
    await writeFile(join(dir, 'scenarios', 'data', 'users.csv'), 'email\nada@example.test\n');
    await writeFile(join(dir, 'shared', 'users.csv'), 'sku\nA1\n');
    await writeFile(join(dir, 'scenarios', 's.yaml'), scenario('http://shop.load.svc', '        headers: { x-u: "{{ users.email }}", x-s: "{{ skus.sku }}" }\n') +
      'data:\n  users: { file: data/users.csv }\n  skus: { file: ../shared/users.csv }\n');
    const r = await runCli(['k8s', 'job', 'scenarios/s.yaml', '-p', '2', '-o', 'job'], { cwd: dir });
    expect(r.stderr).toMatch(/^Kubernetes manifests written to job: configmap\.yaml, service\.yaml, job\.yaml\nnext: kubectl apply -f job; kubectl wait --for=condition=complete job\/scalectl-flash-sale/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const cm = new ConfigMap(parse(await readFile(join(dir, 'job', 'configmap.yaml'), 'utf8')) as ConstructorParameters<typeof ConfigMap>[0]);
    expect(() => cm.validate()).not.toThrow();
    const job = new Job(parse(await readFile(join(dir, 'job', 'job.yaml'), 'utf8')) as ConstructorParameters<typeof Job>[0]);
    expect(() => job.validate()).not.toThrow();
    const items = job.spec!.template.spec!.volumes![0]!.configMap!.items!;
    expect(items).toEqual([
      { key: 's.yaml', path: 'scenarios/s.yaml' },
      { key: 'users.csv', path: 'scenarios/data/users.csv' },
      { key: 'shared.users.csv', path: 'shared/users.csv' },
    ]);
    for (const { key, path } of items) expect(cm.data![key]).toBe(await readFile(join(dir, path), 'utf8'));
    expect(job.spec!.template.spec!.containers[0]!.command![2]).toContain('exec scalectl run /scenario/scenarios/s.yaml --shard');
  });

  it('gives every file its own ConfigMap key, also when names and dotted paths clash (x/c.csv, y/c.csv, y.c.csv)', async () => {
    const dir = await tempFiles({ 'y.c.csv': 'n\n3\n' });
    await mkdir(join(dir, 'x'));
    await mkdir(join(dir, 'y'));
    await writeFile(join(dir, 'x', 'c.csv'), 'n\n1\n');
    await writeFile(join(dir, 'y', 'c.csv'), 'n\n2\n');
    await writeFile(join(dir, 's.yaml'), scenario('http://shop.load.svc', '        headers: { a: "{{ a.n }}", b: "{{ b.n }}", c: "{{ c.n }}" }\n') +
      'data:\n  a: { file: x/c.csv }\n  b: { file: y/c.csv }\n  c: { file: y.c.csv }\n');
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2'], { cwd: dir });
    expect(r.stderr).toBe('');
    const [cmDoc] = docsOf(r.stdout);
    const cm = new ConfigMap(cmDoc as ConstructorParameters<typeof ConfigMap>[0]);
    const items = jobOf(r.stdout).spec!.template.spec!.volumes![0]!.configMap!.items!;
    expect(items.map((i) => i.path)).toEqual(['s.yaml', 'x/c.csv', 'y/c.csv', 'y.c.csv']);
    expect(new Set(items.map((i) => i.key)).size).toBe(4);
    expect(Object.keys(cm.data!).sort()).toEqual(items.map((i) => i.key).sort());
    for (const { key, path } of items) expect(cm.data![key]).toBe(await readFile(join(dir, path), 'utf8'));
  });

  it('configMapKeys: unique keys the API server takes ([-._a-zA-Z0-9]+, at most 253, not starting with ..)', () => {
    const paths = ['x/c.csv', 'y/c.csv', 'y.c.csv', 'y.c.csv', '..hidden.csv', 'a/..hidden.csv', 'd/my file (1).csv', `${'l'.repeat(300)}.csv`, '.env', 'e/.env'];
    const keys = configMapKeys(paths);
    expect(new Set(keys).size).toBe(paths.length);
    for (const k of keys) {
      expect(k).toMatch(/^[-._a-zA-Z0-9]{1,253}$/);
      expect(k.startsWith('..')).toBe(false);
    }
    expect(keys.slice(0, 3)).toEqual(['c.csv', 'y.c.csv', 'y.c-2.csv']);
  });

  it('refuses a data file given by an absolute path (the pods cannot find it)', async () => {
    const dir = await tempFiles({ 'u.csv': 'email\na\n' });
    await writeFile(join(dir, 's.yaml'), scenario() + `data:\n  users: { file: ${join(dir, 'u.csv')} }\n`);
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^scalectl: data\.users\.file: .* is an absolute path, which the pods cannot find; write it relative to the scenario file\n$/);
  });

  it('refuses files over what a ConfigMap holds (1 MiB), naming the largest', async () => {
    const big = 'email\n' + 'x'.repeat(60) + '@example.test\n'.repeat(1);
    const dir = await tempFiles({ 'big.csv': big.repeat(Math.ceil((1024 * 1024) / big.length) + 1) });
    await writeFile(join(dir, 's.yaml'), scenario() + 'data:\n  users: { file: big.csv }\n');
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^scalectl: the scenario and its data files take 1\.\d\d MiB, more than a ConfigMap holds \(1 MiB\): big\.csv 1\.\d\d MiB/);
  });

  it('a scenario that reads env.NAME needs --env-secret, which the pods then read (the value need not be set here)', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('http://shop.load.svc', '        headers: { authorization: "Bearer {{ env.TOKEN }}" }\n') });
    const refused = await runCli(['k8s', 'job', 's.yaml', '-p', '2'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^scalectl: the scenario reads env\.TOKEN: the pods need them; pass --env-secret <name> naming a Secret with that key\n$/);
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2', '--env-secret', 'load-env'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(jobOf(r.stdout).spec!.template.spec!.containers[0]!.envFrom).toEqual([{ secretRef: { name: 'load-env' } }]);
  });

  it.each([
    [['--', '--out', 'x.json'], /^scalectl: --out after --: each pod writes its result to its log/],
    [['--', '--shard=1/2'], /^scalectl: --shard after --: the Job gives each pod its shard/],
    // The Job's --workers sets the pods' threads and their CPU request: -w after -- would desync them, in any form.
    [['--', '-w2'], /^scalectl: -w after --: use scalectl k8s job --workers\n/],
    [['--', '-w', '2'], /^scalectl: -w after --: use scalectl k8s job --workers\n/],
    [['--', '--workers=64'], /^scalectl: --workers after --: use scalectl k8s job --workers\n/],
    [['--', '-ox.json'], /^scalectl: -o after --: each pod writes its result/],
    [['--', '-thttp://x.test'], /^scalectl: -t after --: use scalectl k8s job --target/],
    // Read by run's own definition: what run would refuse in every pod is refused here.
    [['--', '--conections', '64'], /^scalectl: after --: unknown option '--conections' \(Did you mean --connections\?\)\n/],
    [['--', '--connections'], /^scalectl: after --: option '--connections <n>' argument missing\n/],
    [['--', '--connections', 'many'], /^scalectl: after --: option '--connections <n>' argument 'many' is invalid\. --connections takes a whole number >= 1\.\n/],
    [['--', 'extra.yaml'], /^scalectl: after --: extra\.yaml: not a run flag \(the Job gives run its scenario\)\n/],
    [['--', '--connections', '64', 'extra.yaml'], /^scalectl: after --: extra\.yaml: not a run flag/],
    [['--', '--stream', 'carrier-pigeon=x'], /^scalectl: after --: option '--stream <kind=destination>' argument 'carrier-pigeon=x' is invalid/],
    [['--name', 'Bad_Name'], /^scalectl: --name Bad_Name: expected a DNS label/],
    [['--name', 'a'.repeat(maxJobName(2) + 1)], /at most 61 characters for 2 pods/],
    [['--cpu', 'lots'], /^scalectl: --cpu lots: expected a Kubernetes quantity/],
    [['--barrier-timeout', 'soon'], /^scalectl: --barrier-timeout takes a duration above 0/],
  ])('refuses %j with a usage error', async (args, message) => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2', ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('passes run flags that run accepts, in every form run takes them', async () => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    const r = await runCli(['k8s', 'job', 's.yaml', '-p', '2', '--', '--connections=64', '--no-progress', '--insecure', '--max-in-flight', '500', '--stream', 'ndjson=/tmp/s.ndjson'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jobOf(r.stdout).spec!.template.spec!.containers[0]!.command![2]).toMatch(/--out - --connections=64 --no-progress --insecure --max-in-flight 500 --stream ndjson=\/tmp\/s\.ndjson$/);
  });

  it('needs --parallelism', async () => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    const r = await runCli(['k8s', 'job', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--parallelism/);
  });
});

describe('docs/distributed.md', () => {
  const doc = readFileSync(new URL('../docs/distributed.md', import.meta.url), 'utf8');
  const k8sJob = buildProgram({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '/', signal: new AbortController().signal }, () => undefined)
    .commands.find((c) => c.name() === 'k8s')!.commands.find((c) => c.name() === 'job')!;

  it('lists every flag of k8s job in its table, and no flag it does not have', () => {
    const table = doc.split('\n').filter((l) => /^\| `--[a-z]/.test(l));
    const documented = table.map((l) => /^\| `(--[a-z-]+)/.exec(l)![1]!);
    expect(documented.sort()).toEqual(k8sJob.options.map((o) => o.long!).sort());
  });

  it('states the defaults the code uses', () => {
    const d = K8S_JOB_DEFAULTS;
    expect(doc).toContain(`| \`--memory\` | \`${d.memory}\` |`);
    expect(doc).toContain(`| \`--cpu\` | ${d.cpuPerWorker} per worker |`);
    expect(doc).toContain(`| \`--barrier-timeout\` | \`run\`'s (${DEFAULT_BARRIER_TIMEOUT}) |`);
    expect(doc).toContain(`\`ttlSecondsAfterFinished: ${d.ttlSecondsAfterFinished}\``);
    expect(doc).toContain(`+ ${d.deadlineMarginSeconds} s (image`);
    expect(doc).toContain(`listens on TCP port\n  ${d.barrierPort}.`);
    expect(doc).toContain(`mounted at\n  \`${d.mountPath}\``);
  });
});
