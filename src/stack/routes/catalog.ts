import type { FastifyInstance } from 'fastify';
import type { ShopDeps } from '../shop-deps.js';

interface ProductRow { id: number; name: string; description: string; price_cents: number; stock: number; hot: boolean }

const toProduct = (r: ProductRow) => ({ id: r.id, name: r.name, description: r.description, priceCents: r.price_cents, stock: r.stock, hot: r.hot });

const MAX_LIMIT = 100;

/**
 * Products (paginated, and one at a time through the cache) and the
 * flash-sale list: the catalog reads, the only statements that may go to a
 * read replica (deps.dbs.reader()); carts, checkout and orders stay on the
 * primary so a customer always sees their own writes.
 */
export function catalogRoutes(app: FastifyInstance, deps: ShopDeps): void {
  app.get('/api/products', {
    schema: {
      querystring: {
        type: 'object',
        properties: { page: { type: 'string', pattern: '^[0-9]{1,9}$' }, limit: { type: 'string', pattern: '^[0-9]{1,9}$' } },
      },
    },
  }, async (req, reply) => {
    const q = req.query as { page?: string; limit?: string };
    const page = Math.max(1, Number(q.page ?? 1));
    const limit = Math.min(MAX_LIMIT, Math.max(1, Number(q.limit ?? 20)));
    const rows = (await deps.dbs.reader().query<ProductRow>(
      'SELECT id, name, description, price_cents, stock, hot FROM products ORDER BY id LIMIT $1 OFFSET $2', [limit, (page - 1) * limit])).rows;
    const total = deps.productCount;
    reply.header('x-total-count', String(total));
    return { items: rows.map(toProduct), pagination: { page, limit, total, pages: Math.ceil(total / limit) } };
  });

  // Cache-aside: read the cache, fall back to PostgreSQL on a miss (or a cache outage), then fill the cache.
  app.get('/api/products/:id', {
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,9}$' } }, required: ['id'] } },
  }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const key = `product:${id}`;
    if (deps.config.cache) {
      const cached = await deps.cache.get(key);
      deps.metrics.cacheRequests.inc({ result: cached.result });
      if (cached.result === 'hit') return reply.type('application/json').header('x-cache', 'hit').send(cached.value);
    } else {
      // With the cache off every read goes to PostgreSQL: a miss, so the hit ratio shows 0, not "no data".
      deps.metrics.cacheRequests.inc({ result: 'miss' });
    }
    const row = (await deps.dbs.reader().query<ProductRow>('SELECT id, name, description, price_cents, stock, hot FROM products WHERE id = $1', [id])).rows[0];
    if (!row) return reply.status(404).send({ error: 'not_found', message: `no product ${id}` });
    const body = JSON.stringify(toProduct(row));
    // Filled before answering, so the next read hits (the write is bounded by the cache's command timeout and never fails the request).
    if (deps.config.cache) await deps.cache.set(key, body);
    return reply.type('application/json').header('x-cache', deps.config.cache ? 'miss' : 'off').send(body);
  });

  // Live stock, never cached: this is what buyers race for. From a replica it may be behind by the
  // replica's lag; checkout decides on the primary, so a stale view never oversells.
  app.get('/api/flash-sale', async () => {
    const rows = (await deps.dbs.reader().query<ProductRow>('SELECT id, name, description, price_cents, stock, hot FROM products WHERE hot ORDER BY id')).rows;
    return { items: rows.map(toProduct) };
  });
}
