import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../exit-codes.js';
import { listenAddress, startBarrier, type BarrierOptions } from './start-barrier.js';

/** A port on 127.0.0.1 that nothing listens on (opened on port 0, then closed). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const controllers: AbortController[] = [];
afterEach(() => {
  // Whatever a failed test left waiting gives up.
  for (const c of controllers.splice(0)) c.abort();
});

function barrier(port: number, index: number, count: number, over: Partial<BarrierOptions> = {}): { promise: Promise<number>; lines: string[]; abort: () => void } {
  const controller = new AbortController();
  controllers.push(controller);
  const lines: string[] = [];
  const promise = startBarrier({
    host: '127.0.0.1', port, shard: { index, count }, scenarioHash: 'a'.repeat(64), timeoutMs: 20_000,
    signal: controller.signal, say: (l) => lines.push(l), now: Date.now, leadMs: 50, ...over,
  });
  // Observed later; a rejection is not unhandled meanwhile.
  promise.catch(() => undefined);
  return { promise, lines, abort: () => controller.abort() };
}

/** Resolves once `pred` holds of what a barrier said (polled on each event-loop turn, bounded). */
async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !pred(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(pred()).toBe(true);
}

/** A shard spoken by hand: connects, sends its hello line, and keeps each JSON line shard 1 answers. */
function rawShard(port: number, index: number, id: string): { socket: Socket; got: Record<string, unknown>[] } {
  const got: Record<string, unknown>[] = [];
  const socket = connect(port, '127.0.0.1', () => socket.write(JSON.stringify({ index, count: 3, scenarioHash: 'a'.repeat(64), id }) + '\n'));
  socket.on('error', () => undefined);
  let buffer = '';
  socket.on('data', (chunk) => {
    buffer += String(chunk);
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      got.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
    }
  });
  return { socket, got };
}

async function rejection(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('start barrier', () => {
  it('shard 1 listens, the others connect (before it is up too) and all get the same start', async () => {
    const port = await freePort();
    // Shards 3 and 2 come first: connection refused, retried.
    const s3 = barrier(port, 2, 3);
    const s2 = barrier(port, 1, 3);
    await until(() => s3.lines.some((l) => /connection refused/.test(l)));
    const s1 = barrier(port, 0, 3);
    const [a, b, c] = await Promise.all([s1.promise, s2.promise, s3.promise]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(s1.lines).toContain('waiting for shards at barrier: 3 of 3 arrived');
  });

  it('ignores garbage and a stranger, and counts a shard that reconnects once', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 3);
    await until(() => s1.lines.length > 0);
    // Garbage, then a line far too long: both connections are dropped and the wait goes on.
    const junk = connect(port, '127.0.0.1');
    junk.on('error', () => undefined);
    junk.write('GET / HTTP/1.1\r\n\r\n');
    const long = connect(port, '127.0.0.1');
    long.on('error', () => undefined);
    long.write('x'.repeat(10_000));
    // Shard 2 arrives, goes away, comes back.
    const hello = JSON.stringify({ index: 2, count: 3, scenarioHash: 'a'.repeat(64), id: 'p2' }) + '\n';
    const first = connect(port, '127.0.0.1', () => first.write(hello));
    await until(() => s1.lines.includes('waiting for shards at barrier: 2 of 3 arrived; missing: 3'));
    first.destroy();
    await until(() => s1.lines.filter((l) => l === 'waiting for shards at barrier: 1 of 3 arrived; missing: 2, 3').length === 2);
    const s2 = barrier(port, 1, 3);
    const s3 = barrier(port, 2, 3);
    const [a, b, c] = await Promise.all([s1.promise, s2.promise, s3.promise]);
    expect([b, c]).toEqual([a, a]);
    junk.destroy();
    long.destroy();
  });

  it('two processes started as one shard end the wait of every shard with exit 3', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 3);
    const first = barrier(port, 1, 3);
    await until(() => s1.lines.includes('waiting for shards at barrier: 2 of 3 arrived; missing: 3'));
    const second = barrier(port, 1, 3);
    const errors = await Promise.all([s1, first, second].map((s) => rejection(s.promise)));
    for (const e of errors) {
      expect(e.exitCode).toBe(ExitCode.invalidInput);
      expect(e.message).toMatch(/^(shard 1: )?shard 2 was started twice \(two processes are shard 2\): each process needs its own --shard I\/N$/);
    }
  });

  it('a process that reconnects while its old connection lingers still counts once; after the start only it gets the start again', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 3, { leadMs: 2000 });
    await until(() => s1.lines.length > 0);
    const old = rawShard(port, 2, 'p2');
    await until(() => s1.lines.includes('waiting for shards at barrier: 2 of 3 arrived; missing: 3'));
    // The same process (same id) on a new connection, the old one not closed: the new one counts, the old is dropped.
    const again = rawShard(port, 2, 'p2');
    await until(() => old.socket.destroyed);
    const three = rawShard(port, 3, 'p3');
    const at = await s1.promise;
    await until(() => again.got.some((m) => m.startAt === at) && three.got.some((m) => m.startAt === at));
    // After the start: shard 2's process once more gets the start; another process as shard 2 is refused (exit 3), not started.
    const late = rawShard(port, 2, 'p2');
    const intruder = rawShard(port, 2, 'someone-else');
    await until(() => late.got.length > 0 && intruder.got.length > 0);
    expect(late.got).toEqual([{ startAt: at }]);
    expect(intruder.got).toEqual([{ error: 'shard 2 was started twice (the run started already with another shard 2): each process needs its own --shard I/N', exit: ExitCode.invalidInput }]);
    expect(s1.lines).toContain('a second shard 2 came after the start and was refused');
    for (const r of [old, again, three, late, intruder]) r.socket.destroy();
  });

  it('a shard of another scenario ends the wait of both with exit 3, naming the mismatch', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 2);
    const s2 = barrier(port, 1, 2, { scenarioHash: 'b'.repeat(64) });
    const [e1, e2] = await Promise.all([rejection(s1.promise), rejection(s2.promise)]);
    for (const e of [e1, e2]) {
      expect(e.exitCode).toBe(ExitCode.invalidInput);
      expect(e.message).toMatch(/shard 2 runs another scenario than shard 1 \(scenario hash bbbbbbbbbbbb… against aaaaaaaaaaaa…\)/);
    }
  });

  it('another shard count is refused the same way', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 2);
    const s2 = barrier(port, 1, 3);
    const e = await rejection(s2.promise);
    expect(e.exitCode).toBe(ExitCode.invalidInput);
    expect(e.message).toMatch(/shard 2 was started as one of 3 shards, shard 1 as one of 2/);
    expect((await rejection(s1.promise)).exitCode).toBe(ExitCode.invalidInput);
  });

  it('times out with exit 10 naming the missing shards, on every side', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 3, { timeoutMs: 300 });
    const s2 = barrier(port, 1, 3, { timeoutMs: 20_000 });
    const e1 = await rejection(s1.promise);
    expect(e1.exitCode).toBe(ExitCode.shardsNotStarted);
    expect(e1.message).toBe('only 2 of 3 shards arrived within 300ms; missing: 3');
    const e2 = await rejection(s2.promise);
    expect(e2.exitCode).toBe(ExitCode.shardsNotStarted);
    expect(e2.message).toMatch(/only 2 of 3 shards arrived within 300ms; missing: 3/);
  });

  it('a wait longer than setTimeout can time (2^31 − 1 ms) does not end at once', async () => {
    const port = await freePort();
    const long = 900 * 3_600_000;
    const s1 = barrier(port, 0, 2, { timeoutMs: long });
    await until(() => s1.lines.length > 0);
    const s2 = barrier(port, 1, 2, { timeoutMs: long });
    const [a, b] = await Promise.all([s1.promise, s2.promise]);
    expect(b).toBe(a);
  });

  it('a shard that never reaches shard 1 times out with exit 10 and why', async () => {
    const port = await freePort();
    const e = await rejection(barrier(port, 1, 2, { timeoutMs: 300 }).promise);
    expect(e.exitCode).toBe(ExitCode.shardsNotStarted);
    expect(e.message).toMatch(new RegExp(`shard 1 at 127.0.0.1:${port} could not be reached within 300ms \\(connection refused`));
  });

  it('a shard whose shard 1 went away says so at the timeout, then what it last said', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 3);
    await until(() => s1.lines.length > 0);
    let skew = 0;
    const s2 = barrier(port, 1, 3, { now: () => Date.now() + skew });
    await until(() => s2.lines.includes('waiting for shards at barrier: 2 of 3 arrived; missing: 3'));
    // The barrier timeout passes (by shard 2's clock) while its connection is still open; then shard 1 goes away.
    skew = 60_000;
    s1.abort();
    const e = await rejection(s2.promise);
    expect(s2.lines.some((l) => l.startsWith(`lost shard 1 at 127.0.0.1:${port} (`))).toBe(true);
    expect(e.exitCode).toBe(ExitCode.shardsNotStarted);
    expect(e.message).toMatch(new RegExp(`^shard 1 at 127.0.0.1:${port} went away \\((the connection closed before the start|connection refused: it is no longer listening)\\) ` +
      'and was not back within the barrier timeout \\(20s\\); when last reached, 2 of 3 shards had arrived; missing: 3$'));
  });

  it('an abort while waiting exits 5, on both sides', async () => {
    const port = await freePort();
    const s1 = barrier(port, 0, 3);
    const s2 = barrier(port, 1, 3);
    await until(() => s1.lines.some((l) => l.startsWith('waiting for shards at barrier: 2 of 3')));
    s1.abort();
    s2.abort();
    expect((await rejection(s1.promise)).exitCode).toBe(ExitCode.aborted);
    expect((await rejection(s2.promise)).exitCode).toBe(ExitCode.aborted);
  });

  it('listens on a loopback HOST only, else on every interface', () => {
    expect(listenAddress('localhost')).toBe('127.0.0.1');
    expect(listenAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(listenAddress('::1')).toBe('::1');
    expect(listenAddress('job-0.job')).toBeUndefined();
    expect(listenAddress('10.0.0.5')).toBeUndefined();
  });
});
