import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { QueueKeys } from 'bullmq';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { planHpa, planKeda } from '../src/analyzers/autoscaler.js';
import { resolveListName } from '../src/capacity/capacity-result.js';
import { parseCapacityOptions } from '../src/commands/capacity-options.js';
import { KUSTOMIZE_FILE, renderK8s, renderKustomizeComponent, WEB_CONTAINER } from '../src/reporters/k8s.js';
import { bullWaitList, configuredKeyPrefix, ORDER_QUEUE, resolveStackConfig } from '../src/stack/contract.js';

/*
 * deploy/shop/: what `kubectl kustomize` builds from each overlay (offline)
 * is valid for Kubernetes (kubernetes-models' schemas, by kind), runs the
 * shop with settings the shop accepts, and is what `capacity --emit-k8s`
 * autoscales: the same Deployment names and the Redis list the shop's
 * consumers really use.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OVERLAYS = join(ROOT, 'deploy/shop/overlays');
const run = promisify(execFile);

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
type Container = { name: string; command?: string[]; args?: string[]; env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]; envFrom?: { configMapRef?: { name: string } }[]; ports?: { name: string; containerPort: number }[]; readinessProbe?: { httpGet?: { path: string; port: string } }; livenessProbe?: { httpGet?: { path: string; port: string } }; resources?: { requests?: { cpu?: string } } };
type PodSpec = { containers: Container[] };

/** Each kind the overlays may hold, with its schema. */
const MODELS: Record<string, (o: Obj) => { validate: () => void }> = {
  ConfigMap: (o) => new ConfigMap(o as never),
  Secret: (o) => new Secret(o as never),
  Service: (o) => new Service(o as never),
  Deployment: (o) => new Deployment(o as never),
  StatefulSet: (o) => new StatefulSet(o as never),
  PodDisruptionBudget: (o) => new PodDisruptionBudget(o as never),
  HorizontalPodAutoscaler: (o) => new HorizontalPodAutoscaler(o as never),
  ScaledObject: (o) => new ScaledObject(o as never),
};

async function kustomize(dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { timeout: 30_000 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
}

/** Kinds kustomize generates (secretGenerator, configMapGenerator): their names get a hash suffix, `<name>-<10 characters>`. */
const GENERATED = new Set(['Secret', 'ConfigMap']);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The object of that kind and name: exactly the name, or for a generated kind the name with its hash suffix. */
const find = (objs: Obj[], kind: string, name: string): Obj | undefined => {
  const generated = new RegExp(`^${escape(name)}-[a-z0-9]{10}$`);
  return objs.find((o) => o.kind === kind && (o.metadata.name === name || (GENERATED.has(kind) && generated.test(o.metadata.name))));
};
const podOf = (o: Obj): PodSpec => (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const annotationsOf = (o: Obj): Record<string, string> => (o as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations;

/** What the shop's container sees: its ConfigMap, its secret values (when the overlay has them), its env; and its flags. */
function shopSettings(objs: Obj[], c: Container): { env: Record<string, string>; flags: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) Object.assign(env, (find(objs, 'ConfigMap', from.configMapRef!.name) as unknown as { data: Record<string, string> }).data);
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const secret = ref && (find(objs, 'Secret', ref.name) as unknown as { data: Record<string, string> } | undefined);
    env[e.name] = e.value ?? (secret ? Buffer.from(secret.data[ref.key]!, 'base64').toString() : 'postgres://user:password@db.example:5432/shop');
  }
  const args = c.args ?? [];
  const flags = Object.fromEntries(args.flatMap((a, i) => (a.startsWith('--') ? [[a.slice(2).replace(/-(\w)/g, (_, ch: string) => ch.toUpperCase()), args[i + 1]!]] : [])));
  return { env, flags };
}

describe('deploy/shop overlays', () => {
  const built: Record<string, Obj[]> = {};
  beforeAll(async () => {
    for (const o of ['demo', 'external']) built[o] = await kustomize(join(OVERLAYS, o));
  });

  it.each(['demo', 'external'])('%s: every object is valid for its kind', (o) => {
    expect(built[o]!.length).toBeGreaterThan(0);
    for (const obj of built[o]!) {
      const model = MODELS[obj.kind];
      expect(model, `a schema for ${obj.kind}`).toBeDefined();
      expect(() => model!(obj).validate(), `${obj.kind} ${obj.metadata.name}`).not.toThrow();
    }
  });

  it.each(['demo', 'external'])('%s: web Deployment `shop` behind Service `shop`, consumer Deployment `shop-order-worker`, probes and scrape annotations', (o) => {
    const objs = built[o]!;
    const web = find(objs, 'Deployment', 'shop')!;
    const worker = find(objs, 'Deployment', 'shop-order-worker')!;
    for (const [d, role] of [[web, 'web'], [worker, 'consumer']] as const) {
      const c = podOf(d).containers[0]!;
      const { env, flags } = shopSettings(objs, c);
      const resolved = resolveStackConfig({ flags, env });
      // The shop accepts what the manifest gives it, runs the role, and listens where the probes and the Service look.
      expect(resolved.ok ? [] : resolved.problems).toEqual([]);
      if (!resolved.ok) continue;
      expect(resolved.config.role).toBe(role);
      expect(resolved.config.autoscale).toBe(false);
      const port = c.ports!.find((p) => p.name === 'http')!;
      expect(port.containerPort).toBe(resolved.config.port);
      expect(resolved.config.host).toBe('0.0.0.0');
      expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(annotationsOf(d)).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port.containerPort), 'prometheus.io/path': '/metrics' });
    }
    const svc = find(objs, 'Service', 'shop') as unknown as { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } };
    expect(svc.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 'http' })]);
    expect((web as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels).toMatchObject(svc.spec.selector);
  });

  it.each(['demo', 'external'])('%s: both Deployments read the generated ConfigMap shop-settings, whose name changes with its settings (an edit rolls the pods)', (o) => {
    const objs = built[o]!;
    const maps = objs.filter((x) => x.kind === 'ConfigMap');
    expect(maps.map((m) => m.metadata.name)).toEqual([expect.stringMatching(/^shop-settings-[a-z0-9]{10}$/)]);
    for (const name of ['shop', 'shop-order-worker']) {
      expect(podOf(find(objs, 'Deployment', name)!).containers[0]!.envFrom!.map((e) => e.configMapRef?.name), name).toEqual([maps[0]!.metadata.name]);
    }
  });

  it('demo: PostgreSQL and Redis StatefulSets with Services, and the Secret the shop reads points at them', () => {
    const objs = built.demo!;
    type Svc = { spec: { clusterIP?: string; selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] } };
    for (const name of ['postgres', 'redis']) {
      const sts = find(objs, 'StatefulSet', name) as unknown as { spec: { serviceName: string; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };
      expect(sts).toBeDefined();
      expect(find(objs, 'Service', name)).toBeDefined();
      // Its governing Service is headless (what serviceName is for), selects its pods, and, since a headless Service
      // forwards nothing, offers the port the container listens on.
      const governing = find(objs, 'Service', sts.spec.serviceName) as unknown as Svc;
      expect(governing, `${name}: serviceName ${sts.spec.serviceName}`).toBeDefined();
      expect(governing.spec.clusterIP).toBe('None');
      expect(sts.spec.template.metadata.labels).toMatchObject(governing.spec.selector);
      const ports = sts.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of governing.spec.ports) expect(ports.find((c) => c.name === p.targetPort || c.containerPort === p.targetPort)?.containerPort).toBe(p.port);
    }
    const { env } = shopSettings(objs, podOf(find(objs, 'Deployment', 'shop-order-worker')!).containers[0]!);
    const port = (name: string): number => (find(objs, 'Service', name) as unknown as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port;
    expect(new URL(env.DATABASE_URL!).host).toBe(`postgres:${port('postgres')}`);
    expect(new URL(env.REDIS_URL!).host).toBe(`redis:${port('redis')}`);
    expect(env.REDIS_ADDRESS).toBe(`redis:${port('redis')}`);
    // The demo Redis has no password: KEDA's passwordFromEnv reads an empty one, as the shop's REDIS_URL has none.
    expect(env.REDIS_PASSWORD).toBe('');
    expect(new URL(env.REDIS_URL!).password).toBe('');
  });

  it('external: each PodDisruptionBudget selects a Deployment and lets a drain evict a pod even at 1 replica', () => {
    const objs = built.external!;
    const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget') as unknown as { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> }; minAvailable?: number | string; maxUnavailable?: number | string } }[];
    expect(pdbs.length).toBeGreaterThan(0);
    for (const pdb of pdbs) {
      const selected = objs.filter((o) => o.kind === 'Deployment' && Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => (o as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels[k] === v));
      expect(selected.map((d) => d.metadata.name), pdb.metadata.name).toHaveLength(1);
      // The fewest pods the Deployment may run: 1 (the base's consumer count, or an autoscaler's minimum).
      const pods = 1;
      const allowed = pdb.spec.maxUnavailable !== undefined ? Number(pdb.spec.maxUnavailable) : pods - Number(pdb.spec.minAvailable);
      expect(allowed, `${pdb.metadata.name}: evictions allowed with ${pods} pod`).toBeGreaterThanOrEqual(1);
    }
  });

  it('external: no StatefulSets; the backends come from the Secret `shop-backends` you create', () => {
    const objs = built.external!;
    expect(objs.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Secret')).toEqual([]);
    const refs = podOf(find(objs, 'Deployment', 'shop-order-worker')!).containers[0]!.env!.map((e) => e.valueFrom?.secretKeyRef);
    expect(refs).toEqual(expect.arrayContaining([{ name: 'shop-backends', key: 'DATABASE_URL' }, { name: 'shop-backends', key: 'REDIS_URL' }, { name: 'shop-backends', key: 'REDIS_ADDRESS' }, { name: 'shop-backends', key: 'REDIS_PASSWORD' }]));
  });
});

/**
 * What the final stage of a Dockerfile sets as ENTRYPOINT and CMD (exec form
 * only; a shell form or an instruction it does not set is null: the base
 * image's, which the shop's manifests cannot rely on).
 */
function imageCommand(dockerfile: string): { entrypoint: string[] | null; cmd: string[] | null } {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const last = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)));
  const exec = (name: string): string[] | null => {
    const line = last.findLast((l) => new RegExp(`^${name}\\s`, 'i').test(l));
    const form = line?.slice(name.length).trim();
    return form?.startsWith('[') ? (JSON.parse(form) as string[]) : null;
  };
  return { entrypoint: exec('ENTRYPOINT'), cmd: exec('CMD') };
}

/** The process a container runs, as Kubernetes composes it: `command` replaces ENTRYPOINT, `args` replaces CMD. */
function containerArgv(image: { entrypoint: string[] | null; cmd: string[] | null }, c: Container): string[] | null {
  if (c.command) return [...c.command, ...(c.args ?? [])];
  if (!image.entrypoint) return null;
  return [...image.entrypoint, ...(c.args ?? image.cmd ?? [])];
}

describe('deploy/shop/Dockerfile with the manifests', () => {
  it('every shop container runs `node dist/stack/main.js` with its args: `args` replace CMD, so the ENTRYPOINT must start the shop', async () => {
    const image = imageCommand(await readFile(join(ROOT, 'deploy/shop/Dockerfile'), 'utf8'));
    const objs = await kustomize(join(OVERLAYS, 'demo'));
    const shops = objs.filter((o) => o.kind === 'Deployment' && podOf(o).containers.some((c) => c.name === 'shop'));
    expect(shops.map((d) => d.metadata.name).sort()).toEqual(['shop', 'shop-order-worker']);
    for (const d of shops) {
      const c = podOf(d).containers.find((x) => x.name === 'shop')!;
      expect(c.args, `${d.metadata.name} passes its role as args`).toBeDefined();
      expect(containerArgv(image, c), d.metadata.name).toEqual(['node', 'dist/stack/main.js', ...c.args!]);
    }
    // `docker run <image>` alone starts the shop too.
    expect(containerArgv(image, { name: 'shop' })).toEqual(['node', 'dist/stack/main.js']);
  });
});

describe('deploy/shop/components/service-monitor', () => {
  it('scrapes the web pods through the Service and the consumer pods directly, on their metrics port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalectl-monitor-'));
    try {
      await writeFile(join(dir, 'kustomization.yaml'), `resources:\n  - ${relative(dir, join(OVERLAYS, 'demo'))}\ncomponents:\n  - ${relative(dir, join(ROOT, 'deploy/shop/components/service-monitor'))}\n`);
      const objs = await kustomize(dir);
      // No schema for the Prometheus Operator's kinds among the dev dependencies: their wiring is checked instead.
      type Monitor = { spec: { selector: { matchLabels: Record<string, string> }; endpoints?: { port: string; path: string }[]; podMetricsEndpoints?: { port: string; path: string }[] } };
      const sm = find(objs, 'ServiceMonitor', 'shop') as unknown as Monitor;
      const pm = find(objs, 'PodMonitor', 'shop-order-worker') as unknown as Monitor;
      const svc = find(objs, 'Service', 'shop') as unknown as { metadata: { labels: Record<string, string> }; spec: { ports: { name: string }[] } };
      expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
      expect(sm.spec.endpoints!.map((e) => [e.port, e.path])).toEqual([[svc.spec.ports[0]!.name, '/metrics']]);
      const worker = find(objs, 'Deployment', 'shop-order-worker')!;
      expect((worker as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels).toMatchObject(pm.spec.selector.matchLabels);
      expect(pm.spec.podMetricsEndpoints!.map((e) => [e.port, e.path])).toEqual([[podOf(worker).containers[0]!.ports![0]!.name, '/metrics']]);
      // Instead of the annotations, not as well: a Prometheus that reads both would scrape each pod twice.
      for (const name of ['shop', 'shop-order-worker']) {
        expect(Object.keys(annotationsOf(find(objs, 'Deployment', name)!) ?? {}).filter((k) => k.startsWith('prometheus.io/')), name).toEqual([]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('capacity --emit-k8s applies to the deploy/shop overlays', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalectl-emit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['demo', 'external'])('%s + the emitted Component: the HPA and ScaledObject scale its Deployments, the trigger watches the list the shop uses', async (o) => {
    const shop = await kustomize(join(OVERLAYS, o));
    const worker = podOf(find(shop, 'Deployment', 'shop-order-worker')!).containers[0]!;
    const { env, flags } = shopSettings(shop, worker);
    const resolved = resolveStackConfig({ flags, env });
    if (!resolved.ok) throw new Error(resolved.problems.join('; '));

    // The list BullMQ keeps the consumers' waiting jobs in: the shop's queue (bullmq-queue.ts) under its keyPrefix.
    const waitList = new QueueKeys(`${resolved.config.keyPrefix}:bull`).toKey(ORDER_QUEUE, 'wait');
    // What capacity names, with its default flags: from the shop's /metrics (shop_queue_info, bullWaitList of its
    // keyPrefix), or for target: reference from the keyPrefix configured in the same variables.
    const settings = parseCapacityOptions({ replicas: '1' } as never);
    expect(resolveListName(settings, undefined, configuredKeyPrefix(undefined, env)).listName).toBe(waitList);
    const list = resolveListName(settings, bullWaitList(resolved.config.keyPrefix), undefined);
    const names = { deployment: settings.deployment, consumerDeployment: settings.consumerDeployment, listName: list.listName };
    const hpa = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
    const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });
    const files = renderK8s(hpa, keda, names);
    files[KUSTOMIZE_FILE] = renderKustomizeComponent(Object.keys(files), names, hpa);
    const emitted = join(dir, `k8s-${o}`);
    const overlay = join(dir, `overlay-${o}`);
    await mkdir(emitted);
    await mkdir(overlay);
    for (const [name, text] of Object.entries(files)) await writeFile(join(emitted, name), text);
    await writeFile(join(overlay, 'kustomization.yaml'), `resources:\n  - ${relative(overlay, join(OVERLAYS, o))}\ncomponents:\n  - ${relative(overlay, emitted)}\n`);

    // kustomize applies a patch whose target matches nothing without a word: each must name an object of the overlay,
    // and a container it names must be one of that object's (a strategic merge would add a container without an image).
    type Patch = { target: { kind: string; name: string }; patch: string };
    const component = parseAllDocuments(files[KUSTOMIZE_FILE]!)[0]!.toJS() as { patches: Patch[] };
    expect(component.patches.length).toBeGreaterThan(0);
    for (const p of component.patches) {
      const target = find(shop, p.target.kind, p.target.name);
      expect(target, `patch target ${p.target.kind} ${p.target.name}`).toBeDefined();
      const patched = (parseAllDocuments(p.patch)[0]!.toJS() as { spec?: { template?: { spec?: { containers?: { name: string }[] } } } }).spec?.template?.spec?.containers ?? [];
      for (const c of patched) expect(podOf(target!).containers.map((x) => x.name), `container ${c.name} of ${p.target.name}`).toContain(c.name);
    }

    const objs = await kustomize(overlay);
    for (const obj of objs) expect(() => MODELS[obj.kind]!(obj).validate(), `${obj.kind} ${obj.metadata.name}`).not.toThrow();
    const h = find(objs, 'HorizontalPodAutoscaler', 'shop') as unknown as { spec: { scaleTargetRef: { kind: string; name: string } } };
    const so = find(objs, 'ScaledObject', 'shop-order-worker') as unknown as { spec: { scaleTargetRef: { name: string }; triggers: { metadata: Record<string, string> }[] } };
    expect(find(objs, 'Deployment', h.spec.scaleTargetRef.name)).toBeDefined();
    expect(find(objs, 'Deployment', so.spec.scaleTargetRef.name)).toBeDefined();
    // The list the consumers read: the shop's keyPrefix as the Deployment sets it (BullMQ's default would never scale).
    expect(so.spec.triggers[0]!.metadata.listName).toBe(waitList);
    // The trigger reads host:port and the password from variables the consumer container defines (a Redis with a
    // password answers NOAUTH to a trigger without it).
    const scaled = podOf(find(objs, 'Deployment', so.spec.scaleTargetRef.name)!).containers[0]!;
    for (const key of ['addressFromEnv', 'passwordFromEnv']) {
      expect(so.spec.triggers[0]!.metadata[key], key).toBeDefined();
      expect(scaled.env!.map((e) => e.name), key).toContain(so.spec.triggers[0]!.metadata[key]);
    }
    expect(so.spec.triggers[0]!.metadata.addressFromEnv).toBe('REDIS_ADDRESS');
    // The autoscalers own the counts: a re-apply must not reset them.
    for (const name of ['shop', 'shop-order-worker']) expect((find(objs, 'Deployment', name) as unknown as { spec: { replicas?: number } }).spec.replicas).toBeUndefined();
    // The HPA's averageUtilization is a percent of the CPU at the knee: that is the request the web container gets.
    const web = podOf(find(objs, 'Deployment', h.spec.scaleTargetRef.name)!);
    expect(web.containers.map((c) => c.name)).toEqual(podOf(find(shop, 'Deployment', 'shop')!).containers.map((c) => c.name));
    expect(hpa.cpuRequestMillicores).not.toBeNull();
    expect(web.containers.find((c) => c.name === WEB_CONTAINER)!.resources!.requests!.cpu).toBe(`${hpa.cpuRequestMillicores}m`);
  });
});
