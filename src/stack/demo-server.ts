import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * `target: demo`: a small in-memory shop on 127.0.0.1 (a free port), started
 * and stopped by `scalectl run`, so the example scenarios work on a fresh
 * machine. Until the reference stack (src/stack/, PostgreSQL, cache, queue)
 * lands, this is what the README's first command runs against. It shares the
 * generator's process, so treat its numbers as a demonstration, not a benchmark.
 */
export interface DemoServer {
  url: string;
  close: () => Promise<void>;
}

const PRODUCTS = 1000;
const HOT = [1, 2, 3, 4, 5];

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Service time in ms: mostly a few ms, with a tail (a lognormal-ish shape). */
function serviceMs(base: number): number {
  const u = Math.random() || 1e-9;
  return base * Math.exp(0.5 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random()));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65_536) throw new Error('body too large');
  }
  const v: unknown = text ? JSON.parse(text) : {};
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export async function startDemoServer(stock = 500): Promise<DemoServer> {
  const carts = new Map<string, { productId: number; qty: number }[]>();
  const remaining = new Map(HOT.map((id) => [id, stock]));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const parts = url.pathname.split('/').filter(Boolean);
    await new Promise((r) => setTimeout(r, serviceMs(req.method === 'GET' ? 2 : 5)));
    if (req.method === 'GET' && url.pathname === '/api/products') {
      const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
      const items = Array.from({ length: 20 }, (_, i) => ({ id: (page - 1) * 20 + i + 1, name: `Product ${(page - 1) * 20 + i + 1}` }));
      return send(res, 200, { items, pagination: { page, limit: 20, total: PRODUCTS } });
    }
    if (req.method === 'GET' && parts[1] === 'products' && parts[2]) return send(res, 200, { id: Number(parts[2]), name: `Product ${parts[2]}` });
    if (req.method === 'GET' && url.pathname === '/api/flash-sale') return send(res, 200, { items: HOT.map((id) => ({ id, stock: remaining.get(id) })) });
    if (req.method === 'POST' && url.pathname === '/api/carts') {
      const id = randomUUID();
      carts.set(id, []);
      return send(res, 201, { id });
    }
    if (req.method === 'POST' && parts[1] === 'carts' && parts[3] === 'items') {
      const cart = carts.get(parts[2] ?? '');
      if (!cart) return send(res, 404, { error: 'no such cart' });
      const body = await readJson(req);
      cart.push({ productId: Number(body.productId), qty: Number(body.qty ?? 1) });
      return send(res, 201, { items: cart.length });
    }
    if (req.method === 'POST' && url.pathname === '/api/checkout') {
      const body = await readJson(req);
      const cart = carts.get(String(body.cartId));
      if (!cart) return send(res, 404, { error: 'no such cart' });
      for (const item of cart) {
        const left = remaining.get(item.productId);
        if (left !== undefined && left < item.qty) return send(res, 409, { error: 'sold out' });
      }
      for (const item of cart) if (remaining.has(item.productId)) remaining.set(item.productId, remaining.get(item.productId)! - item.qty);
      carts.delete(String(body.cartId));
      return send(res, 202, { orderId: randomUUID() });
    }
    send(res, 404, { error: 'not found' });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 400, { error: 'bad request' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
