import { describe, expect, it } from 'vitest';
import type { EmbeddedPostgres } from '../../src/stack/embedded-postgres.js';
import { RESTART_WINDOW_MS, superviseEmbeddedPostgres } from '../../src/stack/pg-supervisor.js';

/** A stand-in server: the test says when it dies and whether its restart works. */
function fakeServer(restartFails = false) {
  let die: (why: string) => void = () => undefined;
  const calls: string[] = [];
  const pg: EmbeddedPostgres = {
    connection: { host: '/tmp/x', port: 5432, user: 'postgres', database: 'postgres' },
    replicas: [],
    onUnexpectedExit: (l) => (die = l),
    restart: async (prepare) => {
      calls.push('restart');
      if (restartFails) throw new Error('initdb failed (code 1): no space left on device');
      await prepare({ ...pg.connection, host: '/tmp/x/setup' });
    },
    stop: async () => undefined,
  };
  return { pg, calls, die: (why: string) => die(why) };
}

function supervise(server: ReturnType<typeof fakeServer>, clock: { t: number }) {
  const lines: string[] = [];
  const fatal: Error[] = [];
  superviseEmbeddedPostgres(server.pg, {
    prepare: async (c) => void server.calls.push(`prepare at ${c.host}`),
    log: (level, msg) => lines.push(`${level} ${msg}`),
    onFatal: (err) => fatal.push(err),
    now: () => clock.t,
  });
  return { lines, fatal };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('superviseEmbeddedPostgres', () => {
  it('restarts a server that died with a fresh, seeded database and says so; a second death within the window stops the stack', async () => {
    const server = fakeServer();
    const clock = { t: 1_000_000 };
    const { lines, fatal } = supervise(server, clock);
    server.die('SIGKILL');
    await settle();
    expect(server.calls).toEqual(['restart', 'prepare at /tmp/x/setup']);
    expect(lines[0]).toMatch(/^error embedded PostgreSQL exited unexpectedly \(SIGKILL\); starting a fresh database with the seed data/);
    expect(lines[1]).toMatch(/^info embedded PostgreSQL is up again with a fresh database/);
    expect(fatal).toEqual([]);

    clock.t += RESTART_WINDOW_MS + 1;
    server.die('code 1');
    await settle();
    expect(server.calls).toEqual(['restart', 'prepare at /tmp/x/setup', 'restart', 'prepare at /tmp/x/setup']);

    clock.t += 30_000;
    server.die('SIGKILL');
    await settle();
    expect(server.calls).toHaveLength(4);
    expect(fatal.map((e) => e.message)).toEqual(['embedded PostgreSQL exited unexpectedly (SIGKILL) again, 30 s after the last time; not restarting it']);
  });

  it('stops the stack, naming the cause, when the restart fails', async () => {
    const server = fakeServer(true);
    const { lines, fatal } = supervise(server, { t: 0 });
    server.die('SIGKILL');
    await settle();
    expect(server.calls).toEqual(['restart']);
    expect(fatal.map((e) => e.message)).toEqual(['embedded PostgreSQL exited unexpectedly (SIGKILL) and could not be restarted: initdb failed (code 1): no space left on device']);
    expect(lines.at(-1)).toMatch(/^error .*could not be restarted.*; stopping the stack$/);
  });
});
