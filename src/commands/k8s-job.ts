import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ExitCode, inputError, usageError } from '../exit-codes.js';
import { envNamesIn, loadScenario, type LoadedScenario } from '../scenarios/load-scenario.js';
import { formatIssue } from '../scenarios/scenario-issue.js';
import { isLoopbackUrl, targetUrlProblem } from '../scenarios/target-url.js';
import { metricsThroughTarget } from '../telemetry/telemetry-plan.js';
import { nameList, printable } from '../shared/printable.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { K8S_JOB_DEFAULTS, renderJobFiles, renderJobYaml, type JobFile, type JobSpec } from '../reporters/k8s-job.js';
import { DEFAULT_BARRIER_TIMEOUT_MS, parseBarrierTimeout } from './shard-options.js';
import { OutputFiles } from './output-files.js';
import type { CommandIO } from './io.js';

export interface K8sJobOptions {
  /** Pods, one shard each. */
  parallelism: number;
  image?: string;
  namespace?: string;
  name?: string;
  /** Write configmap.yaml, service.yaml and job.yaml into this folder (default: one YAML stream on stdout). */
  out?: string;
  cpu?: string;
  memory?: string;
  /** Engine worker threads per pod (run --workers). */
  workers?: number;
  /** The target the pods load (run --target), instead of the scenario's. */
  target?: string;
  /** run --barrier-timeout, as given. */
  barrierTimeout?: string;
  /** A Secret whose keys become the pods' environment. */
  envSecret?: string;
}

/** ConfigMap data, all keys together, at most 1 MiB (the API server refuses more). */
const CONFIG_MAP_MAX_BYTES = 1024 * 1024;
/** A DNS-1035 label: what a Service name must be (the Job, its Service and ConfigMap share the name). */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
/** `run` flags the Job sets itself, or that have no use in a pod (files in a pod that is deleted). */
const SET_BY_JOB: Record<string, string> = {
  '--shard': 'the Job gives each pod its shard',
  '--start-at': 'the Job starts its pods with a barrier',
  '--out': 'each pod writes its result to its log, collected by scalectl merge -',
  '-o': 'each pod writes its result to its log, collected by scalectl merge -',
  '--html': 'pass it to scalectl merge, which judges the merged run',
  '--junit': 'pass it to scalectl merge, which judges the merged run',
  '--summary-md': 'pass it to scalectl merge, which judges the merged run',
  '--target': 'use scalectl k8s job --target',
  '-t': 'use scalectl k8s job --target',
  '--workers': 'use scalectl k8s job --workers',
  '-w': 'use scalectl k8s job --workers',
  '--barrier-timeout': 'use scalectl k8s job --barrier-timeout',
};

/** The longest Job name for N pods: pod hostnames `<name>-<index>` must fit a 63-character DNS label. */
export function maxJobName(parallelism: number): number {
  return 63 - 1 - String(parallelism - 1).length;
}

/** `scalectl-<scenario name>`, as a DNS label short enough for N pods. */
function defaultName(scenarioName: string, parallelism: number): string {
  const slug = scenarioName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return `scalectl-${slug}`.slice(0, maxJobName(parallelism)).replace(/-+$/, '');
}

function checkOptions(o: K8sJobOptions): void {
  if (o.name !== undefined) {
    if (!DNS_LABEL.test(o.name)) throw usageError(`--name ${printable(o.name, 80)}: expected a DNS label (lower-case letters, digits and '-', starting with a letter), as the Job's headless Service needs`);
    const max = maxJobName(o.parallelism);
    if (o.name.length > max) throw usageError(`--name ${o.name}: at most ${max} characters for ${o.parallelism} pods (the pods' host names <name>-<index> are DNS labels of at most 63)`);
  }
  if (o.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace)) throw usageError(`--namespace ${printable(o.namespace, 80)}: expected a DNS label (lower-case letters, digits and '-')`);
  for (const [flag, v] of [['--cpu', o.cpu], ['--memory', o.memory]] as const) {
    if (v !== undefined && !QUANTITY.test(v)) throw usageError(`${flag} ${printable(v, 40)}: expected a Kubernetes quantity such as ${flag === '--cpu' ? '500m or 2' : '512Mi or 2Gi'}`);
  }
  if (o.image !== undefined && (o.image.trim() === '' || /\s/.test(o.image))) throw usageError(`--image ${printable(o.image, 80)}: expected an image reference such as registry.example.com/scalectl:0.1.0`);
  if (o.barrierTimeout !== undefined) {
    try {
      parseBarrierTimeout(o.barrierTimeout);
    } catch (err) {
      throw usageError((err as Error).message);
    }
  }
  if (o.target !== undefined) {
    const problem = targetUrlProblem(o.target);
    if (problem) throw usageError(`--target ${maskCredentials(o.target)}: ${problem}`);
  }
  if (o.envSecret !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.envSecret)) throw usageError(`--env-secret ${printable(o.envSecret, 80)}: expected a Secret's name`);
}

/** The flag a word names: `--out` of `--out=x`, `-w` of `-w2` (run's short flags all take a value, so none are bundled). */
function flagOf(word: string): string | undefined {
  if (word.startsWith('--')) return word.split('=')[0];
  return /^-[A-Za-z]/.test(word) ? word.slice(0, 2) : undefined;
}

/**
 * The flags after `--`, which every pod gives `scalectl run`: those the Job
 * sets itself are refused first (`-w2` as well as `--workers=2`, before run's
 * own check of a value), then `run`'s own definition reads the rest, so that
 * a misspelt flag, a flag without its value or a stray word is a usage
 * error here rather than N failed pods. `runFlagsProblem` (src/cli.ts): what
 * `run` would say of them, or undefined.
 */
function checkRunFlags(runFlags: readonly string[], runFlagsProblem: (words: readonly string[]) => string | undefined): void {
  for (const word of runFlags) {
    if (word === '--') break;
    const flag = flagOf(word);
    const why = flag === undefined ? undefined : SET_BY_JOB[flag];
    if (why) throw usageError(`${flag} after --: ${why}`);
  }
  const problem = runFlagsProblem(runFlags);
  if (problem !== undefined) throw usageError(`after --: ${problem}`);
}

/** The target the pods will load, refused when a pod cannot reach it. */
function checkTarget(target: string, given: boolean): void {
  const where = given ? '--target' : "the scenario's target";
  if (target === 'reference') {
    throw usageError(`${where} is "reference": a Job's pods cannot start the embedded reference stack; deploy the shop (deploy/shop, docs/reference-stack.md) and point --target at its Service, e.g. --target http://shop.<namespace>.svc`);
  }
  if (isLoopbackUrl(target)) {
    throw usageError(`${where} ${maskCredentials(target)} is this machine's loopback address, and in a pod it names the pod itself; point --target at the service as the pods reach it (a Service name, e.g. http://shop.<namespace>.svc)`);
  }
}

/** A ConfigMap key as the API server takes it: `[-._a-zA-Z0-9]+`, at most 253 characters, not starting with `..`. */
function configMapKey(name: string): string {
  const key = name.replace(/[^-._a-zA-Z0-9]/g, '_').slice(-253);
  return key.startsWith('..') ? `_${key.slice(1)}` : key;
}

/**
 * A unique ConfigMap key for each of these files (paths relative to the
 * mount, `/`-separated): its name, else its path with `.` for `/`, else
 * with `-2`, `-3`... before its extension, until no other file has it.
 * Only the keys must differ: each file is mounted at its own path.
 */
export function configMapKeys(paths: readonly string[]): string[] {
  const taken = new Set<string>();
  return paths.map((path) => {
    let key = configMapKey(basename(path));
    if (taken.has(key)) key = configMapKey(path.replace(/\//g, '.'));
    const dot = key.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [key.slice(0, dot), key.slice(dot)] : [key, ''];
    for (let n = 2; taken.has(key); n++) key = configMapKey(`${stem}-${n}${ext}`);
    taken.add(key);
    return key;
  });
}

/**
 * The scenario and its data files, laid out under one folder (their closest
 * common one) so that the scenario's relative paths keep working under the
 * mount. Keys are the file names, made unique (configMapKeys).
 */
async function jobFiles(scenarioPath: string, loaded: LoadedScenario): Promise<{ files: JobFile[]; scenarioKeyPath: string }> {
  const s = loaded.scenario;
  if (s.defaults.tls?.key !== undefined) {
    throw usageError("defaults.tls.key: a private key does not belong in a ConfigMap (anyone who may read ConfigMaps could read it); scalectl k8s job does not support client certificates yet");
  }
  const named = [...Object.entries(s.data).map(([n, d]) => [`data.${n}.file`, d.file] as const), ...(['ca', 'cert'] as const).flatMap((k) => (s.defaults.tls?.[k] ? [[`defaults.tls.${k}`, s.defaults.tls[k]] as const] : []))];
  for (const [where, file] of named) {
    if (isAbsolute(file)) throw usageError(`${where}: ${printable(file, 80)} is an absolute path, which the pods cannot find; write it relative to the scenario file`);
  }
  const dir = dirname(scenarioPath);
  const paths = [scenarioPath, ...new Set(named.map(([, f]) => resolve(dir, f)))];
  let root = dir;
  const outside = (p: string): boolean => relative(root, p) === '..' || relative(root, p).startsWith('..' + sep);
  for (const p of paths) while (outside(p)) root = dirname(root);
  const relPaths = paths.map((p) => relative(root, p).split(sep).join('/'));
  const keys = configMapKeys(relPaths);
  const files: JobFile[] = [];
  for (const [i, p] of paths.entries()) files.push({ key: keys[i]!, path: relPaths[i]!, bytes: await readFile(p) });
  const total = files.reduce((n, f) => n + f.bytes.length, 0);
  if (total > CONFIG_MAP_MAX_BYTES) {
    const largest = [...files].sort((a, b) => b.bytes.length - a.bytes.length).slice(0, 3).map((f) => `${f.path} ${(f.bytes.length / 1024 / 1024).toFixed(2)} MiB`);
    throw inputError(`the scenario and its data files take ${(total / 1024 / 1024).toFixed(2)} MiB, more than a ConfigMap holds (1 MiB): ${largest.join(', ')}; use smaller data files`);
  }
  return { files, scenarioKeyPath: files[0]!.path };
}

/**
 * `scalectl k8s job <scenario.yaml> --parallelism N`: the ConfigMap, headless
 * Service and Indexed Job that run the scenario as N shards started by a
 * barrier (docs/distributed.md). `runFlagsProblem`: what `scalectl run` makes
 * of the flags after `--` (its own definition, in src/cli.ts).
 */
export async function k8sJobCommand(
  file: string, runFlags: readonly string[], o: K8sJobOptions, io: CommandIO, version: string,
  runFlagsProblem: (words: readonly string[]) => string | undefined,
): Promise<number> {
  checkOptions(o);
  checkRunFlags(runFlags, runFlagsProblem);
  const outputs = await OutputFiles.check({}, io);
  const path = resolve(io.cwd, file);
  // The pods get the variables the scenario reads from --env-secret: here, where they may not be set, they only have to be named.
  const text = await readFile(path, 'utf8').catch(() => '');
  const envNames = envNamesIn(text);
  const env = { ...Object.fromEntries(envNames.map((n) => [n, ''])), ...io.env };
  const r = await loadScenario(path, env, file);
  if (!r.ok) {
    for (const issue of r.issues) io.stderr.write(formatIssue({ ...issue, file }) + '\n');
    return ExitCode.invalidInput;
  }
  const scenario = r.loaded.scenario;
  checkTarget(o.target ?? scenario.target, o.target !== undefined);
  if (envNames.length > 0 && o.envSecret === undefined) {
    throw usageError(`the scenario reads ${nameList(envNames.map((n) => `env.${n}`))}: the pods need them; pass --env-secret <name> naming a Secret with ${envNames.length === 1 ? 'that key' : 'those keys'}`);
  }
  const { files, scenarioKeyPath } = await jobFiles(path, r.loaded);
  const scraped = metricsThroughTarget(scenario.telemetry, o.target ?? scenario.target, scenario.target === 'reference');
  if (scraped !== undefined) {
    // Through a Service, each scrape reaches one replica (the reference shop: one web pod, never its order consumers): figures of
    // several processes read as one, whose counters seem to reset, and telemetry thresholds judged on them. Prometheus sees every pod.
    const missed = scenario.target === 'reference' ? " (never the shop's order consumers)" : '';
    io.stderr.write(`warning: shard 1 will read the target's metrics at ${maskCredentials(scraped)}: if that is a Service, each scrape reaches one of its pods${missed}, so counters seem to reset and telemetry thresholds are judged on partial figures; give the scenario a telemetry: section that queries Prometheus (promql:, docs/telemetry.md#services-under-kubernetes-with-prometheus)\n`);
  }
  const workers = o.workers ?? 1;
  const barrierMs = o.barrierTimeout !== undefined ? parseBarrierTimeout(o.barrierTimeout) : DEFAULT_BARRIER_TIMEOUT_MS;
  const scheduleMs = scenario.phases.reduce((t, p) => t + p.durationMs, 0);
  const name = o.name ?? defaultName(scenario.name, o.parallelism);
  const spec: JobSpec = {
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    image: o.image ?? `ghcr.io/scalectl/scalectl:${version}`,
    parallelism: o.parallelism,
    scenarioPath: scenarioKeyPath,
    files,
    runArgs: [
      ...(o.target !== undefined ? ['--target', o.target] : []),
      ...(o.workers !== undefined ? ['--workers', String(o.workers)] : []),
      ...(o.barrierTimeout !== undefined ? ['--barrier-timeout', o.barrierTimeout] : []),
      ...runFlags,
    ],
    cpu: o.cpu ?? String(workers * K8S_JOB_DEFAULTS.cpuPerWorker),
    memory: o.memory ?? K8S_JOB_DEFAULTS.memory,
    // The last iterations may take up to the request timeout after the schedule ends.
    activeDeadlineSeconds: Math.ceil((scheduleMs + barrierMs + scenario.defaults.timeout) / 1000) + K8S_JOB_DEFAULTS.deadlineMarginSeconds,
    ...(o.envSecret ? { envSecret: o.envSecret } : {}),
    envNames,
    version,
  };
  if (o.out === undefined) {
    io.stdout.write(renderJobYaml(spec));
    return ExitCode.ok;
  }
  const ok = await outputs.writeInto(resolve(io.cwd, o.out), o.out, renderJobFiles(spec, o.out), 'Kubernetes manifests');
  const ns = o.namespace ? ` -n ${o.namespace}` : '';
  if (ok) io.stderr.write(`next: kubectl apply -f ${printable(o.out)}; kubectl wait --for=condition=complete job/${name}${ns} --timeout=${spec.activeDeadlineSeconds}s (docs/distributed.md)\n`);
  return outputs.exitCode(ExitCode.ok);
}
