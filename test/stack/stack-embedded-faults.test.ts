import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { childrenOf } from '../helpers/processes.js';
import { buy, eventually, http, startStackProcess, type StackProcess } from '../helpers/shop.js';
import { madeFolders } from '../helpers/temp-folders.js';

// `scalectl stack up` (embedded backends) when its PostgreSQL or the stack
// itself dies. Each test gives the stack a temp dir of its own (TMPDIR), so
// the server's data directory found there is this stack's.
const ARGS = ['--workers', '1', '--products', '100', '--rate-limit', '0'];
let stack: StackProcess | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  await stack?.stop('SIGKILL');
  child?.kill('SIGKILL');
  stack = undefined;
  child = undefined;
});

/** A temp dir for one stack; PostgreSQL's user must be able to enter it (mkdtemp makes it 0700). */
async function ownTmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
  madeFolders.push(dir);
  await chmod(dir, 0o755);
  return dir;
}

/** The embedded server's directory under `tmp`, once it exists. */
async function serverDir(tmp: string): Promise<string> {
  let dir = '';
  await eventually(async () => {
    const found = (await readdir(tmp)).find((f) => f.startsWith('scalectl-pg-') && !f.startsWith('scalectl-pg-bin-'));
    dir = found ? join(tmp, found) : '';
    return existsSync(join(dir, 'data'));
  }, 30_000, 'the embedded server directory');
  return dir;
}

/** The running postmaster's pid, from its pid file. */
async function postmasterPid(dir: string): Promise<number> {
  return Number((await readFile(join(dir, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The server stopped and its directory removed (by the stack, or by its watchdog). */
const cleanedUp = (dir: string, pid?: number) => eventually(async () => (pid === undefined || !alive(pid)) && !existsSync(dir), 20_000, `PostgreSQL stopped and ${dir} removed`);

describe('stack up when embedded PostgreSQL dies', () => {
  it('restarts it with a fresh seeded database, answering 503 with Retry-After (never 500) meanwhile; exits 7 when it dies again soon after', async () => {
    const tmp = await ownTmp();
    stack = await startStackProcess(ARGS, { TMPDIR: tmp });
    const url = stack.url;
    const order = await buy(url, 1);
    expect(order.status).toBe(202);
    const dir = await serverDir(tmp);
    process.kill(await postmasterPid(dir), 'SIGKILL');

    const seen: number[] = [];
    let retryAfter = true;
    await eventually(async () => {
      const r = await http(`${url}/api/flash-sale`);
      seen.push(r.status);
      if (r.status === 503) retryAfter &&= Number(r.headers['retry-after']) > 0;
      return r.status === 200 && stack!.stdout().includes('up again with a fresh database');
    }, 30_000, 'served again after the restart');
    expect(seen.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(seen).toContain(503);
    expect(retryAfter).toBe(true);
    expect(stack.stdout()).toContain('embedded PostgreSQL exited unexpectedly (SIGKILL); starting a fresh database with the seed data');
    // A fresh database: the order is gone, and the stock is the seed's again.
    expect((await http(`${url}/api/orders/${order.json.orderId}`)).status).toBe(404);
    expect((await http(`${url}/readyz`)).json).toEqual({ status: 'ok', db: 'ok', cache: 'ok', orders: 'ok' });
    // The workers' pools, queue consumers and outbox relay work on the new database.
    const after = await buy(url, 1);
    expect(after.status).toBe(202);
    await eventually(async () => (await http(`${url}/api/orders/${after.json.orderId}`)).json.status === 'done', 20_000, 'an order placed after the restart processed');

    const again = await postmasterPid(dir);
    process.kill(again, 'SIGKILL');
    expect(await stack.exited).toBe(7);
    expect(stack.stderr()).toMatch(/^scalectl: the reference stack stopped: embedded PostgreSQL exited unexpectedly \(SIGKILL\) again, \d+ s after the last time; not restarting it$/m);
    await cleanedUp(dir, again);
  });
});

describe('stack up does not leave embedded PostgreSQL behind', () => {
  it('when the primary is killed with SIGKILL', async () => {
    const tmp = await ownTmp();
    stack = await startStackProcess(ARGS, { TMPDIR: tmp });
    const dir = await serverDir(tmp);
    const pid = await postmasterPid(dir);
    stack.child.kill('SIGKILL');
    await stack.exited;
    await cleanedUp(dir, pid);
  });

  it('when whoever read its stdout has gone (`stack up | tee log`, then Ctrl-C): no crash, exit 0', async () => {
    const tmp = await ownTmp();
    stack = await startStackProcess(ARGS, { TMPDIR: tmp });
    const dir = await serverDir(tmp);
    const pid = await postmasterPid(dir);
    stack.child.stdout!.destroy();
    expect(await stack.stop('SIGINT')).toBe(0);
    expect(stack.stderr()).not.toMatch(/EPIPE|internal error/);
    expect(stack.stderr()).toContain('reference stack stopped');
    await cleanedUp(dir, pid);
  });

  it('on a second Ctrl-C while it is being set up (exit 130)', async () => {
    const tmp = await ownTmp();
    child = spawn(process.execPath, [BIN, 'stack', 'up', '--port', '0', ...ARGS], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const dir = await serverDir(tmp);
    child.kill('SIGINT');
    await eventually(async () => err.includes('stopping gracefully'), 10_000, 'the first SIGINT heard');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await cleanedUp(dir);
  });

  it('on a terminal Ctrl-C (SIGINT to its whole process group) while initdb runs: initdb is not hit, the stack starts, drains and exits 0', async () => {
    const tmp = await ownTmp();
    // Detached: the stack leads a process group, as a command run from a shell does.
    child = spawn(process.execPath, [BIN, 'stack', 'up', '--port', '0', ...ARGS], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const pid = child.pid!;
    // The Ctrl-C as soon as initdb is seen running (before the fix, it was in the stack's group and failed: exit 7).
    await eventually(async () => {
      // stack up starts the shop (dist/stack/main.js), whose primary runs initdb.
      const shops = await childrenOf(pid);
      const initdb = [...shops, ...(await Promise.all(shops.map((c) => childrenOf(c.pid)))).flat()].find((c) => c.comm === 'initdb');
      if (!initdb || (await childrenOf(initdb.pid)).length === 0) return false; // and its postgres started
      process.kill(-pid, 'SIGINT');
      return true;
    }, 30_000, 'initdb running postgres');
    const dir = join(tmp, (await readdir(tmp)).find((f) => f.startsWith('scalectl-pg-') && !f.startsWith('scalectl-pg-bin-'))!);
    expect(await exited).toBe(0);
    expect(err).not.toContain('could not start');
    expect(err).toContain('reference stack stopped');
    await cleanedUp(dir);
  });
});
