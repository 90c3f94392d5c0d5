import { afterEach, describe, expect, it } from 'vitest';
import { createDb, isDbUnavailable } from '../../src/stack/db.js';
import { migrate, seed } from '../../src/stack/migrations.js';
import { startShopWorker, type ShopWorker } from '../../src/stack/shop-worker.js';
import { buy, dropRunData, eventually, externalConfig, http, PG_URL, uniqueName } from '../helpers/shop.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { closedPort } from '../helpers/test-server.js';

// The machine's PostgreSQL is reached through a loopback proxy this test owns,
// so it can take the database away and bring it back without touching the real server.
let worker: ShopWorker | undefined;
let proxy: TcpProxy | undefined;
let name = '';

afterEach(async () => {
  await proxy?.restore().catch(() => undefined);
  await worker?.drain(5_000);
  await proxy?.close();
  worker = undefined;
  proxy = undefined;
  if (name) await dropRunData(name);
});

const pgUrl = new URL(PG_URL);

describe('isDbUnavailable', () => {
  it('tells "no database now" (refused, terminated, shutting down) from a failing query', async () => {
    const port = await closedPort();
    const down = createDb({ connection: `postgres://postgres@127.0.0.1:${port}/test`, schema: 'public', poolSize: 1 });
    const up = createDb({ connection: PG_URL, schema: 'public', poolSize: 2 });
    try {
      expect(isDbUnavailable(await down.query('SELECT 1').catch((e: unknown) => e))).toBe(true);
      // What a backend hears when its server is stopped or its postmaster killed: 57P01.
      const terminated = await up.transaction(async (c) => {
        await up.query('SELECT pg_terminate_backend($1)', [(await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid]);
        await c.query('SELECT 1');
      }).catch((e: unknown) => e);
      expect(isDbUnavailable(terminated)).toBe(true);
      expect(isDbUnavailable(await up.query('SELEC 1').catch((e: unknown) => e))).toBe(false);
      expect(isDbUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
      expect(isDbUnavailable(new Error('boom'))).toBe(false);
    } finally {
      await Promise.all([down.close(), up.close()]);
    }
  });
});

describe('external backends when PostgreSQL goes away', () => {
  it('answers 503 with Retry-After (not 500) while the database is down, and serves again when it returns', async () => {
    name = uniqueName();
    const config = externalConfig(name, { rateLimit: '0', cache: 'off' });
    const setup = createDb({ connection: PG_URL, schema: name, poolSize: 2 });
    await migrate(setup, name);
    await seed(setup, config);
    await setup.close();
    proxy = await startTcpProxy(Number(pgUrl.port || 5432));
    const proxied = new URL(PG_URL);
    proxied.port = String(proxy.port);
    worker = await startShopWorker({ config, db: proxied.toString() }, { workerId: 'test', logger: false });
    const url = `http://127.0.0.1:${worker.port}`;
    expect((await http(`${url}/api/flash-sale`)).status).toBe(200);

    await proxy.cut();
    for (const r of [await http(`${url}/api/flash-sale`), await http(`${url}/api/products/3`), await buy(url, 1)]) {
      expect(r.status).toBe(503);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.json).toMatchObject({ error: 'unavailable' });
    }
    const ready = await http(`${url}/readyz`);
    expect([ready.status, ready.json.db]).toEqual([503, 'down']);

    await proxy.restore();
    await eventually(async () => (await http(`${url}/api/flash-sale`)).status === 200, 10_000, 'served again');
    expect((await buy(url, 1)).status).toBe(202);
  });
});
