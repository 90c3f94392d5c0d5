import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { createDb, type Db } from '../../src/stack/db.js';
import { migrate, seed } from '../../src/stack/migrations.js';
import { migrateShards } from '../../src/stack/shards.js';
import { startShopWorker, type ShopWorker, type WorkerHost } from '../../src/stack/shop-worker.js';
import { resolveStackConfig, type StackConfig } from '../../src/stack/stack-config.js';
import { BIN } from './cli.js';

/** The machine's PostgreSQL and Redis (trust auth); each test run works in a schema and key prefix of its own. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other run uses: a PostgreSQL schema and a Redis key prefix. */
export function uniqueName(): string {
  return `scalectl_t_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Settings for an external-backends shop on the machine's PostgreSQL and Redis, isolated by `name`. */
export function externalConfig(name: string, flags: Record<string, unknown> = {}): StackConfig {
  const r = resolveStackConfig({
    flags: { port: '0', backends: 'external', databaseUrl: PG_URL, redisUrl: REDIS_URL, dbSchema: name, keyPrefix: name, logLevel: 'silent', products: '200', hotProducts: '3', ...flags },
    env: {},
  });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.config;
}

/** Drops a run's schema (and its shards' schemas) and Redis keys. */
export async function dropRunData(name: string): Promise<void> {
  const db = createDb({ connection: PG_URL, schema: 'public', poolSize: 1 });
  try {
    const shards = (await db.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${name}\\_shard\\_%`])).rows.map((r) => r.nspname);
    for (const s of [name, ...shards]) await db.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await db.close();
  }
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${name}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface InProcessShop {
  url: string;
  config: StackConfig;
  /** A pool on the shop's schema, to check what the shop wrote. */
  db: Db;
  worker: ShopWorker;
  /** Drains the shop; the data stays until `dropRunData`. */
  stop: () => Promise<void>;
}

/** One shop worker in this process (no cluster), on the machine's PostgreSQL and Redis; `logger`: pino options (default none). */
export async function startInProcessShop(name: string, flags: Record<string, unknown> = {}, logger: WorkerHost['logger'] = false): Promise<InProcessShop> {
  const config = externalConfig(name, flags);
  const db = createDb({ connection: PG_URL, schema: name, poolSize: 4 });
  await migrate(db, name);
  await seed(db, config);
  await migrateShards(config, PG_URL);
  // The worker uses the configured databaseUrl (a test may route it through a proxy); the check pool goes direct.
  const worker = await startShopWorker({ config, db: config.databaseUrl ?? PG_URL, role: 'all' }, { workerId: 'test', logger });
  return {
    url: `http://127.0.0.1:${worker.port}`,
    config,
    db,
    worker,
    stop: async () => {
      await worker.drain(5_000);
      await db.close();
    },
  };
}

export interface StackProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Sends the signal and waits for the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  exited: Promise<number | null>;
}

/** `scalectl stack up --port 0 ...` in a child process, resolved once it prints its URL. */
export function startStackProcess(args: string[], env: Record<string, string> = {}): Promise<StackProcess> {
  const child = spawn(process.execPath, [BIN, 'stack', 'up', '--port', '0', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stack up was not ready in 60 s:\n${err}`));
    }, 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /ready at (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!, child, exited, stdout: () => out, stderr: () => err,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stack up exited with ${code} before it was ready:\n${err}`));
    });
  });
}

/** A JSON request; returns status, headers and parsed body. */
export async function http(url: string, opts: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string>; fresh?: boolean } = {}) {
  const hasBody = opts.body !== undefined || opts.raw !== undefined;
  const res = await request(url, {
    method: (opts.method ?? (hasBody ? 'POST' : 'GET')) as 'GET',
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    // Bounded: a test must fail, not hang, when the shop stops answering.
    // fresh: a connection of its own, closed after the answer (no keep-alive socket left to a worker about to be killed).
    reset: opts.fresh ?? false,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const text = await res.body.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the shop answered
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json, text };
}

/** Checks out `qty` of a product with a fresh idempotency key. */
export function buy(url: string, productId: number, key = randomBytes(8).toString('hex')) {
  return http(`${url}/api/checkout`, { body: { items: [{ productId, qty: 1 }] }, headers: { 'idempotency-key': key } });
}

/** Polls `check` until it returns true (each poll waits for the previous answer); fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A poll that fails (a connection reset while a worker restarts) counts as "not yet".
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not true after ${timeoutMs} ms`);
}

/** A Prometheus exposition as `name{labels}` → value, exactly as the lines spell them (for asserting on series). */
export function metricLines(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}
