import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './test-server.js';

/** Debian's prometheus (scripts/ensure-prometheus.js installs it), or SCALECTL_PROMETHEUS. */
export const PROMETHEUS_BIN = process.env.SCALECTL_PROMETHEUS || '/usr/bin/prometheus';

export interface PrometheusServer {
  url: string;
  /** The remote write receiver's URL. */
  writeUrl: string;
  /** An instant PromQL query: each result's labels and value. */
  query: (promql: string) => Promise<{ metric: Record<string, string>; value: number }[]>;
  stop: () => Promise<void>;
}

/** Up to `ms` for the server to say it is ready (it replays an empty WAL: about a second here). */
const READY_MS = 30_000;

async function startOnce(dir: string, port: number): Promise<{ child: ChildProcess; log: () => string } | 'port taken'> {
  const child = spawn(PROMETHEUS_BIN, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const ready = await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok, () => false);
    if (ready) return { child, log: () => log };
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  child.kill('SIGKILL');
  await exited;
  if (/address already in use/i.test(log)) return 'port taken';
  throw new Error(`prometheus did not become ready within ${READY_MS} ms:\n${log}`);
}

/**
 * Starts a Prometheus of its own on a free 127.0.0.1 port, with its
 * remote-write receiver on, no scrape targets, and its data in a temporary
 * folder (removed by stop()).
 */
export async function startPrometheus(): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`no prometheus at ${PROMETHEUS_BIN}: run node scripts/ensure-prometheus.js (npm test does)`);
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-prometheus-'));
  await writeFile(join(dir, 'prometheus.yml'), 'global:\n  evaluation_interval: 1m\nscrape_configs: []\n');
  for (let attempt = 0; ; attempt++) {
    const port = await closedPort();
    const started = await startOnce(dir, port);
    if (started === 'port taken') {
      if (attempt < 4) continue;
      throw new Error('prometheus: no free port after 5 tries');
    }
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      writeUrl: `${url}/api/v1/write`,
      query: async (promql) => {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
        return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
      },
      stop: async () => {
        const { child } = started;
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
