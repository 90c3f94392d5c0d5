import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buy, dropRunData, eventually, http, metricLines, PG_URL, REDIS_URL, uniqueName } from '../helpers/shop.js';

// The shop's own entry point, as a Kubernetes pod runs it (settings in SHOP_*
// variables): a `web` shop and a `consumer` shop on one PostgreSQL and Redis,
// like the Deployments `shop` and `shop-order-worker` of deploy/shop/.
const MAIN = fileURLToPath(new URL('../../dist/stack/main.js', import.meta.url));

interface Shop { child: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string }
const shops: Shop[] = [];
let name = '';

afterEach(async () => {
  for (const s of shops.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
  if (name) await dropRunData(name);
});

function startShop(env: Record<string, string>): Promise<Shop> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SHOP_BACKENDS: 'external', DATABASE_URL: PG_URL, REDIS_URL, SHOP_DB_SCHEMA: name, SHOP_KEY_PREFIX: name, SHOP_PORT: '0', SHOP_PRODUCTS: '20', SHOP_RATE_LIMIT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /ready at (http:\/\/\S+)/.exec(err);
      if (m) {
        const shop = { child, url: m[1]!, exited, stderr: () => err };
        shops.push(shop);
        resolve(shop);
      }
    });
    void exited.then((code) => reject(new Error(`the shop exited with ${code} before it was ready:\n${err}`)));
  });
}

describe('the shop by role (SHOP_ROLE), from dist/stack/main.js', () => {
  it('a web shop takes the order, a consumer-only shop processes it and answers probes and scrapes; both drain on SIGTERM', async () => {
    name = uniqueName();
    const web = await startShop({ SHOP_ROLE: 'web', SHOP_WORKERS: '1' });
    const consumer = await startShop({ SHOP_ROLE: 'consumer', SHOP_CONSUMERS: '1' });
    expect(web.stderr()).toContain('starting the reference stack: 1 worker, external backends, role web');
    expect(consumer.stderr()).toContain('starting the reference stack: 1 consumer, external backends, role consumer');

    // The consumer shop has no API, only the primary's probes and /metrics.
    expect((await http(`${consumer.url}/healthz`)).status).toBe(200);
    expect(await http(`${consumer.url}/readyz`)).toMatchObject({ status: 200, json: { status: 'ok', consumers: 1 } });
    expect((await http(`${consumer.url}/api/products/1`)).status).toBe(404);
    const consumerSeries = metricLines((await http(`${consumer.url}/metrics`)).text);
    expect(consumerSeries.get('shop_replicas{role="consumer",state="ready"}')).toBe(1);
    expect(consumerSeries.get('shop_replicas{role="web",state="ready"}')).toBe(0);
    expect(metricLines((await http(`${web.url}/metrics`)).text).get('shop_replicas{role="consumer",state="ready"}')).toBe(0);

    // An order placed on the web shop is processed by the consumer shop.
    const order = await buy(web.url, 7);
    expect(order.status).toBe(202);
    await eventually(async () => (await http(`${web.url}/api/orders/${order.json.orderId}`)).json.status === 'done', 20_000, 'the order processed');

    for (const s of [web, consumer]) s.child.kill('SIGTERM');
    expect(await Promise.all([web.exited, consumer.exited])).toEqual([0, 0]);
    expect(consumer.stderr()).toContain('reference stack stopped');
  });
});

describe('dist/stack/main.js refuses broken settings', () => {
  it('a SCALECTL_STACK_CONFIG that is not JSON: one line naming it, exit 2, no stack trace', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, SCALECTL_STACK_CONFIG: '{"workers": 2,' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/^shop: SCALECTL_STACK_CONFIG is not JSON: .+\n$/);
  });
});
