import Fastify from 'fastify';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { trackConnections } from '../../src/stack/connection-rebalance.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A server answering with the client's port, so a test sees which connection carried each request. */
async function server() {
  const app = Fastify();
  const tracker = trackConnections(app);
  app.get('/', async (req) => ({ port: req.raw.socket.remotePort }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, tracker };
}

describe('trackConnections', () => {
  it('closes each connection open at a rebalance after its next answer, and only then', async () => {
    const { url, tracker } = await server();
    const pool = new Pool(url, { connections: 1 });
    closers.push(() => pool.close());
    const get = async () => {
      const r = await pool.request({ path: '/', method: 'GET' });
      return { connection: r.headers.connection, port: ((await r.body.json()) as { port: number }).port };
    };
    const first = await get();
    expect(first.connection).toBe('keep-alive');
    expect((await get()).port).toBe(first.port);
    expect(tracker.rebalance()).toBe(1);
    // The next answer on that connection closes it; the client reconnects for the one after.
    expect(await get()).toEqual({ connection: 'close', port: first.port });
    const after = await get();
    expect(after.port).not.toBe(first.port);
    expect(after.connection).toBe('keep-alive');
    expect((await get()).connection).toBe('keep-alive');
  });

  it('leaves connections opened after the rebalance alone', async () => {
    const { url, tracker } = await server();
    expect(tracker.rebalance()).toBe(0);
    const pool = new Pool(url, { connections: 1 });
    closers.push(() => pool.close());
    for (let i = 0; i < 3; i++) {
      const r = await pool.request({ path: '/', method: 'GET' });
      await r.body.dump();
      expect(r.headers.connection).toBe('keep-alive');
    }
  });
});
