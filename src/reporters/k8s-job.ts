import { stringify as yamlStringify } from 'yaml';

/** YAML without folded lines: the shell command reads as one line, as it runs. */
const stringify = (value: unknown): string => yamlStringify(value, { lineWidth: 0 });

/**
 * Defaults of `scalectl k8s job`, defined here once (the CLI's help and
 * docs/distributed.md read them from here).
 */
export const K8S_JOB_DEFAULTS = {
  /** The port shard 1 listens on for the start barrier (the contract of `--start-at barrier:HOST:PORT`). */
  barrierPort: 7070,
  /** CPU requested per engine worker thread: one worker keeps about one core busy at its peak rate. */
  cpuPerWorker: 1,
  /** Memory requested, and its limit (histograms per second and the result frame are held in memory until the end). */
  memory: '1Gi',
  /** Kubernetes deletes the finished Job (and its pods, and with them their logs) this long after it ends: collect before. */
  ttlSecondsAfterFinished: 86_400,
  /** Added to the schedule and the barrier wait in activeDeadlineSeconds: image pull, start-up, the target probe, the barrier's lead, writing the result. */
  deadlineMarginSeconds: 300,
  /** The path the ConfigMap is mounted at in the pod. */
  mountPath: '/scenario',
} as const;

/** A file the pods read: the scenario or one of its data files. */
export interface JobFile {
  /** The ConfigMap key (unique, `[-._a-zA-Z0-9]+`). */
  key: string;
  /** Where it lands under the mount, relative (the scenario's relative paths keep working). */
  path: string;
  bytes: Buffer;
}

export interface JobSpec {
  /** The Job's name; the ConfigMap and the headless Service are named after it. */
  name: string;
  namespace?: string;
  image: string;
  /** Pods, one shard each: parallelism = completions. */
  parallelism: number;
  /** The scenario's path under the mount (a `files` entry). */
  scenarioPath: string;
  files: JobFile[];
  /** More `scalectl run` flags, as separate words (quoted here for the shell). */
  runArgs: string[];
  /** CPU request, a Kubernetes quantity. */
  cpu: string;
  /** Memory request and limit, a Kubernetes quantity. */
  memory: string;
  /** The whole run's bound: schedule + barrier timeout + margin. */
  activeDeadlineSeconds: number;
  /** A Secret whose keys become the container's environment (the scenario's env.NAME). */
  envSecret?: string;
  /** The environment variables the scenario's templates read, for the file's comments. */
  envNames: string[];
  /** The scalectl version that wrote the manifests. */
  version: string;
}

/** A word for `sh -c`: as is when it is plainly safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The container's shell command (the contract of docs/distributed.md): pod
 * `JOB_COMPLETION_INDEX` i runs shard i+1 of N, shard 1's pod (`<job>-0`,
 * reachable through the headless Service `<job>`) holds the barrier, and the
 * result goes to the log, framed. `exec`: scalectl replaces the shell as the
 * container's PID 1, so it gets the SIGTERM of a deleted pod itself (then it
 * stops gracefully and still prints its partial result); a shell in between
 * would not pass the signal on.
 */
export function shardCommand(s: Pick<JobSpec, 'name' | 'parallelism' | 'scenarioPath' | 'runArgs'>): string {
  const words = [
    'exec', 'scalectl', 'run', shellWord(`${K8S_JOB_DEFAULTS.mountPath}/${s.scenarioPath}`),
    '--shard', `$((JOB_COMPLETION_INDEX+1))/${s.parallelism}`,
    '--start-at', `barrier:${s.name}-0.${s.name}:${K8S_JOB_DEFAULTS.barrierPort}`,
    '--out', '-',
    ...s.runArgs.map(shellWord),
  ];
  return words.join(' ');
}

const labelsOf = (name: string): Record<string, string> => ({ 'app.kubernetes.io/name': 'scalectl', 'scalectl.dev/run': name });
const metadataOf = (s: JobSpec, name = s.name): Record<string, unknown> => ({ name, ...(s.namespace ? { namespace: s.namespace } : {}), labels: labelsOf(s.name) });

/** The ConfigMap of the scenario and its data files: text as `data`, anything not UTF-8 as `binaryData`. */
export function configMapManifest(s: JobSpec): Record<string, unknown> {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const f of s.files) {
    const text = f.bytes.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(f.bytes)) data[f.key] = text;
    else binaryData[f.key] = f.bytes.toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadataOf(s),
    ...(Object.keys(data).length ? { data } : {}),
    ...(Object.keys(binaryData).length ? { binaryData } : {}),
  };
}

/**
 * The headless Service that gives shard 1's pod its name `<job>-0.<job>`
 * for the barrier: no cluster IP, and addresses published before the pod is
 * ready (the Job's pods have no readiness probe, and the barrier is needed
 * before anything is "ready").
 */
export function serviceManifest(s: JobSpec): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(s),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { 'scalectl.dev/run': s.name },
      ports: [{ name: 'barrier', port: K8S_JOB_DEFAULTS.barrierPort, targetPort: K8S_JOB_DEFAULTS.barrierPort, protocol: 'TCP' }],
    },
  };
}

/** The Indexed Job: N pods, one shard each, started together by the barrier. */
export function jobManifest(s: JobSpec): Record<string, unknown> {
  const labels = labelsOf(s.name);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadataOf(s),
    spec: {
      completionMode: 'Indexed',
      completions: s.parallelism,
      parallelism: s.parallelism,
      // A shard that ran again would send its slice of the load a second time and
      // print a second result; a failed shard is named by merge instead.
      backoffLimit: 0,
      activeDeadlineSeconds: s.activeDeadlineSeconds,
      ttlSecondsAfterFinished: K8S_JOB_DEFAULTS.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          subdomain: s.name,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'scalectl',
            image: s.image,
            command: ['sh', '-c', shardCommand(s)],
            env: [{ name: 'NO_COLOR', value: '1' }],
            ...(s.envSecret ? { envFrom: [{ secretRef: { name: s.envSecret } }] } : {}),
            ports: [{ name: 'barrier', containerPort: K8S_JOB_DEFAULTS.barrierPort, protocol: 'TCP' }],
            // No CPU limit: CFS throttling of the generator would show up as latency the target never added.
            resources: { requests: { cpu: s.cpu, memory: s.memory }, limits: { memory: s.memory } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            // The root filesystem is read-only: /tmp, for anything Node or a library puts there, is the pod's own.
            volumeMounts: [{ name: 'scenario', mountPath: K8S_JOB_DEFAULTS.mountPath, readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [
            { name: 'scenario', configMap: { name: s.name, items: s.files.map((f) => ({ key: f.key, path: f.path })) } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/** The three manifests in the order `kubectl apply` needs them. */
export function jobManifests(s: JobSpec): Record<string, unknown>[] {
  return [configMapManifest(s), serviceManifest(s), jobManifest(s)];
}

/**
 * The command that collects the shards' results. `--tail=-1`: with a
 * selector kubectl prints only each pod's last 10 lines otherwise.
 * `--ignore-errors`: kubectl reads the pods one after the other and stops at
 * the first it cannot read (a pod that never started) unless told to go on,
 * and merge would then report shards missing whose results were there; it
 * prints an `error: ...` line for such a pod instead, which merge skips.
 */
export function collectCommand(s: Pick<JobSpec, 'name' | 'namespace'>): string {
  const ns = s.namespace ? ` -n ${s.namespace}` : '';
  return `kubectl logs -l job-name=${s.name}${ns} --prefix --tail=-1 --ignore-errors | scalectl merge -`;
}

/** The file's comment lines; `apply`: what to give `kubectl apply -f` (the stream itself, or the folder of all three files). */
function header(s: JobSpec, apply: string): string {
  const ns = s.namespace ? ` -n ${s.namespace}` : '';
  let text = `# scalectl ${s.version}: ${s.parallelism} load generator pods for one distributed run (docs/distributed.md).\n` +
    `# kubectl apply -f ${apply}; kubectl wait --for=condition=complete job/${s.name}${ns} --timeout=${s.activeDeadlineSeconds}s\n` +
    `# ${collectCommand(s)}\n`;
  if (s.envNames.length > 0) {
    text += s.envSecret
      ? `# The scenario reads ${s.envNames.map((n) => `env.${n}`).join(', ')}: from the Secret ${s.envSecret}.\n`
      : `# The scenario reads ${s.envNames.map((n) => `env.${n}`).join(', ')}: give the container these variables (e.g. scalectl k8s job --env-secret <secret>).\n`;
  }
  return text;
}

/**
 * The manifests as files for `-o dir/`, by file name. `dir`: the folder as
 * the user named it, for job.yaml's `kubectl apply -f <dir>/` (the Job
 * needs the ConfigMap and the Service beside it).
 */
export function renderJobFiles(s: JobSpec, dir: string): Record<string, string> {
  const [configMap, service, job] = jobManifests(s);
  return {
    'configmap.yaml': stringify(configMap),
    'service.yaml': stringify(service),
    'job.yaml': header(s, shellWord(dir.endsWith('/') ? dir : `${dir}/`)) + stringify(job),
  };
}

/** The manifests as one multi-document YAML stream, for standard output. */
export function renderJobYaml(s: JobSpec): string {
  return header(s, '<this>') + jobManifests(s).map((m) => stringify(m)).join('---\n');
}
