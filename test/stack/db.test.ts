import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createDb, isPoolTimeout } from '../../src/stack/db.js';
import { PG_URL } from '../helpers/shop.js';

describe('Db (the shop\'s PostgreSQL pool)', () => {
  it('survives a connection lost in the middle of a transaction: the transaction fails, the process does not', async () => {
    const db = createDb({ connection: PG_URL, schema: 'public', poolSize: 2 });
    const admin = createDb({ connection: PG_URL, schema: 'public', poolSize: 1 });
    try {
      const failed = db.transaction(async (c) => {
        const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await c.query('SELECT 1');
      });
      await expect(failed).rejects.toThrow();
      // The pool replaces the lost connection.
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await Promise.all([db.close(), admin.close()]);
    }
  });

  it('recognises the pool\'s "no connection free in time" error (the shop answers it 503, not 500)', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 50 });
    try {
      const first = await pool.connect();
      const err = await pool.connect().then(() => undefined, (e: unknown) => e);
      first.release();
      expect(isPoolTimeout(err)).toBe(true);
      expect(isPoolTimeout(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
    } finally {
      await pool.end();
    }
  });
});
