import { spawnSync } from 'node:child_process';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { K8S_JOB_DEFAULTS, renderJobFiles, renderJobYaml, shardCommand, shellWord, type JobSpec } from './k8s-job.js';

const spec: JobSpec = {
  name: 'scalectl-flash',
  namespace: 'load',
  image: 'registry.example.test/scalectl:0.1.0',
  parallelism: 4,
  scenarioPath: 'flash.yaml',
  files: [
    { key: 'flash.yaml', path: 'flash.yaml', bytes: Buffer.from('name: flash\r\ntarget: http://shop.load.svc\n  trailing spaces   \n') },
    { key: 'users.csv', path: 'data/users.csv', bytes: Buffer.from('email\nada@example.test\n') },
    { key: 'blob.bin', path: 'data/blob.bin', bytes: Buffer.from([0xff, 0xfe, 0x00, 0x41]) },
  ],
  runArgs: ['--connections', '64', '--stream', "prometheus-rw=http://prom:9090/api/v1/write?x=it's"],
  cpu: '2',
  memory: '1Gi',
  activeDeadlineSeconds: 1234,
  envNames: [],
  version: '0.1.0',
};

type Doc = Record<string, unknown>;
const docs = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc);
const jobIn = (text: string): Job => new Job(docs(text)[2] as ConstructorParameters<typeof Job>[0]);

describe('k8s job manifests', () => {
  it('are a ConfigMap, a headless Service and an Indexed Job that kubernetes-models validates', () => {
    const [cm, svc, job] = docs(renderJobYaml(spec));
    const models = [new ConfigMap(cm as ConstructorParameters<typeof ConfigMap>[0]), new Service(svc as ConstructorParameters<typeof Service>[0]), new Job(job as ConstructorParameters<typeof Job>[0])];
    for (const m of models) expect(() => m.validate()).not.toThrow();
    for (const m of models) {
      expect(m.metadata).toMatchObject({ name: 'scalectl-flash', namespace: 'load', labels: { 'app.kubernetes.io/name': 'scalectl', 'scalectl.dev/run': 'scalectl-flash' } });
    }
  });

  it('each file of -o dir/ is the same object, valid on its own', () => {
    const files = renderJobFiles(spec, 'job');
    expect(Object.keys(files).sort()).toEqual(['configmap.yaml', 'job.yaml', 'service.yaml']);
    // The Job needs the ConfigMap and the Service: job.yaml says to apply the folder, not itself.
    expect(files['job.yaml']).toMatch(/^# kubectl apply -f job\/; kubectl wait /m);
    expect(renderJobFiles(spec, 'out dir/')['job.yaml']).toMatch(/^# kubectl apply -f 'out dir\/'; /m);
    expect(renderJobYaml(spec)).toMatch(/^# kubectl apply -f <this>; /m);
    const [cm, svc, job] = docs(renderJobYaml(spec));
    expect(parse(files['configmap.yaml']!)).toEqual(cm);
    expect(parse(files['service.yaml']!)).toEqual(svc);
    expect(parse(files['job.yaml']!)).toEqual(job);
    expect(() => new Job(parse(files['job.yaml']!) as ConstructorParameters<typeof Job>[0]).validate()).not.toThrow();
  });

  it('keeps every file byte for byte through YAML (the shards hash them), text as data and the rest as binaryData', () => {
    const cm = new ConfigMap(docs(renderJobYaml(spec))[0] as ConstructorParameters<typeof ConfigMap>[0]);
    expect(Buffer.from(cm.data!['flash.yaml']!)).toEqual(spec.files[0]!.bytes);
    expect(Buffer.from(cm.data!['users.csv']!)).toEqual(spec.files[1]!.bytes);
    expect(Buffer.from(cm.binaryData!['blob.bin']!, 'base64')).toEqual(spec.files[2]!.bytes);
  });

  it('the Service is headless, publishes pods before they are ready and selects the Job\'s pods', () => {
    const svc = new Service(docs(renderJobYaml(spec))[1] as ConstructorParameters<typeof Service>[0]);
    const job = jobIn(renderJobYaml(spec));
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: { 'scalectl.dev/run': 'scalectl-flash' } });
    const podLabels = job.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(svc.spec!.selector!)) expect(podLabels[k]).toBe(v);
    expect(svc.spec!.ports).toEqual([expect.objectContaining({ port: K8S_JOB_DEFAULTS.barrierPort })]);
  });

  it('the Job: Indexed, N pods at once, never retried, a subdomain for the barrier, non-root, resources, the ConfigMap mounted with its paths', () => {
    const job = jobIn(renderJobYaml(spec));
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', parallelism: 4, completions: 4, backoffLimit: 0, activeDeadlineSeconds: 1234, ttlSecondsAfterFinished: K8S_JOB_DEFAULTS.ttlSecondsAfterFinished });
    const pod = job.spec!.template.spec!;
    expect(pod).toMatchObject({ restartPolicy: 'Never', subdomain: 'scalectl-flash', securityContext: { runAsNonRoot: true } });
    const c = pod.containers[0]!;
    expect(c.image).toBe(spec.image);
    expect(c.resources).toEqual({ requests: { cpu: '2', memory: '1Gi' }, limits: { memory: '1Gi' } });
    expect(c.ports).toEqual([expect.objectContaining({ containerPort: K8S_JOB_DEFAULTS.barrierPort })]);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false });
    expect(c.command!.slice(0, 2)).toEqual(['sh', '-c']);
    expect(c.command![2]).toBe(shardCommand(spec));
    expect(c.volumeMounts).toContainEqual({ name: 'scenario', mountPath: '/scenario', readOnly: true });
    expect(pod.volumes![0]!.configMap).toEqual({ name: 'scalectl-flash', items: spec.files.map((f) => ({ key: f.key, path: f.path })) });
  });

  it('the command is the contract, and the shell gives each index its shard and keeps every word as given', () => {
    const cmd = shardCommand(spec);
    expect(cmd.startsWith('exec scalectl run /scenario/flash.yaml --shard $((JOB_COMPLETION_INDEX+1))/4 --start-at barrier:scalectl-flash-0.scalectl-flash:7070 --out - ')).toBe(true);
    // What sh makes of it: the words scalectl would get, `exec scalectl` replaced by a printer.
    for (const index of [0, 3]) {
      const r = spawnSync('sh', ['-c', cmd.replace(/^exec scalectl /, `printf '%s\\n' `)], { env: { JOB_COMPLETION_INDEX: String(index), PATH: process.env.PATH }, encoding: 'utf8' });
      expect(r.stdout.trimEnd().split('\n')).toEqual(['run', '/scenario/flash.yaml', '--shard', `${index + 1}/4`, '--start-at', 'barrier:scalectl-flash-0.scalectl-flash:7070', '--out', '-', ...spec.runArgs]);
    }
  });

  it('shellWord quotes what the shell would read otherwise', () => {
    expect(shellWord('--connections')).toBe('--connections');
    expect(shellWord('a b')).toBe("'a b'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(shellWord('$HOME')).toBe("'$HOME'");
  });

  it('with an env Secret, the container reads it, and the file names what the scenario reads', () => {
    const s = { ...spec, envSecret: 'load-env', envNames: ['TOKEN'] };
    const text = renderJobYaml(s);
    const job = jobIn(text);
    expect(job.spec!.template.spec!.containers[0]!.envFrom).toEqual([{ secretRef: { name: 'load-env' } }]);
    expect(() => new Job(job).validate()).not.toThrow();
    expect(text).toContain('# The scenario reads env.TOKEN: from the Secret load-env.');
  });

  it('collects with --ignore-errors (kubectl stops at the first pod it cannot read otherwise), whatever the number of pods', () => {
    // --max-log-requests limits only `kubectl logs -f`; without -f kubectl reads the pods one by one.
    for (const parallelism of [2, 8]) {
      const text = renderJobYaml({ ...spec, parallelism });
      expect(text).toMatch(/^# kubectl logs -l job-name=scalectl-flash -n load --prefix --tail=-1 --ignore-errors \| scalectl merge -$/m);
      expect(text).not.toContain('--max-log-requests');
    }
  });
});
