import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { ExitCode, UserError, type ExitCodeValue } from '../exit-codes.js';
import { formatDuration } from '../shared/duration.js';
import { longTimeout, pause } from '../shared/long-timeout.js';
import type { ProcessShard } from './shard-slice.js';

/** Idle time before shard 1 probes a waiting shard's connection (TCP keep-alive). */
const BARRIER_KEEPALIVE_MS = 5_000;

/** How far after the last shard's arrival every shard starts, milliseconds: time for the start message to travel and for worker threads to start. */
export const BARRIER_LEAD_MS = 2000;
/** Pause between attempts to reach shard 1, milliseconds. */
const RETRY_MS = 500;
/** How long one connection attempt may take before it is given up and tried again, milliseconds. */
const CONNECT_TIMEOUT_MS = 5000;
/** Longest line either side accepts: anything longer is not a barrier message. */
const MAX_LINE = 4096;

export interface BarrierOptions {
  /** Where shard 1 listens (and the others connect). */
  host: string;
  port: number;
  /** This process's shard, index from 0: shard 0 listens, the others connect. */
  shard: ProcessShard;
  scenarioHash: string;
  /** How long to wait for every shard, milliseconds. */
  timeoutMs: number;
  /** Aborting gives up the wait (exit 5, no load sent). */
  signal: AbortSignal;
  /** Progress lines for stderr. */
  say: (line: string) => void;
  /** Epoch milliseconds (the clock the run starts by). */
  now: () => number;
  /** Default BARRIER_LEAD_MS. */
  leadMs?: number;
}

/** What a shard sends shard 1 (index from 1, as on the command line). */
interface Hello {
  index: number;
  count: number;
  scenarioHash: string;
  /** This process's own random id, the same on each reconnect: two processes started as one shard have two. */
  id: string;
}

/** Who has arrived, as shard 1 tells the waiting shards. */
interface Arrived {
  arrived: number;
  count: number;
  missing: number[];
}

const line = (message: object): string => JSON.stringify(message) + '\n';

/** Calls onLine for each newline-terminated line; false (the peer is not speaking this protocol) when one is too long. */
function readLines(socket: Socket, onLine: (text: string) => void, onTooLong: () => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      onLine(text);
    }
    if (buffer.length > MAX_LINE) {
      buffer = '';
      onTooLong();
    }
  });
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function arrivedText(a: Arrived, timeoutMs?: number): string {
  const missing = a.missing.length > 0 ? `; missing: ${a.missing.join(', ')}` : '';
  return timeoutMs === undefined
    ? `waiting for shards at barrier: ${a.arrived} of ${a.count} arrived${missing}`
    : `only ${a.arrived} of ${a.count} shards arrived within ${formatDuration(timeoutMs)}${missing}`;
}

/** A shard index given to two processes. */
function twice(index: number, what: string): string {
  return `shard ${index} was started twice (${what} shard ${index}): each process needs its own --shard I/N`;
}

function abortedError(): UserError {
  return new UserError('stopped while waiting for the other shards; no load was sent', ExitCode.aborted);
}

/** The address shard 1 listens on: HOST itself when it is loopback (only this machine's shards), else every interface. */
export function listenAddress(host: string): string | undefined {
  if (host === 'localhost') return '127.0.0.1';
  if (/^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1') return host;
  return undefined;
}

/**
 * The start barrier of a distributed run: every shard calls it once it has
 * loaded its scenario and probed the target, and it resolves to the instant
 * (epoch ms) all start at. Shard 1 listens on HOST:PORT; the others connect
 * (retrying while it is not up yet, and after a lost connection) and send one
 * JSON line `{"index","count","scenarioHash","id"}` (`id`: random, one per
 * process, so that a reconnect is told from a second process started as the
 * same shard, which fails the run with exit 3). Once all N are there, shard 1
 * sends each `{"startAt": <its now + leadMs>}`, and after that only to a
 * process it sent it to already. Shard 1 also sends
 * `{"arrived","count","missing"}` as shards come and go, and `{"error","exit"}`
 * when the run cannot start. Throws UserError: exit 3 when a shard runs another
 * scenario (hash) or another shard count, 10 when not all arrived in time, 5
 * when aborted.
 */
export function startBarrier(o: BarrierOptions): Promise<number> {
  if (o.signal.aborted) return Promise.reject(abortedError());
  return o.shard.index === 0 ? lead(o) : follow(o);
}

/** Shard 1: waits for the others, then tells every one when to start. */
function lead(o: BarrierOptions): Promise<number> {
  const count = o.shard.count;
  /** The connection each shard waits on, by index, and its process's id. */
  const arrived = new Map<number, Socket>();
  const ids = new Map<number, string>();
  const sockets = new Set<Socket>();
  let startAt: number | undefined;
  let done = false;
  const status = (): Arrived => {
    const missing = Array.from({ length: count - 1 }, (_, i) => i + 2).filter((i) => !arrived.has(i));
    return { arrived: arrived.size + 1, count, missing };
  };
  let said = '';
  const announce = (): void => {
    const s = status();
    const text = arrivedText(s);
    if (text === said) return;
    said = text;
    o.say(text);
    for (const socket of arrived.values()) socket.write(line(s));
  };
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      // A shard's host lost without a FIN (a node gone) would hold its place for good, and its
      // restarted process would look like a second one: TCP keep-alive notices the dead peer.
      socket.setKeepAlive(true, BARRIER_KEEPALIVE_MS);
      let index: number | undefined;
      socket.on('close', () => {
        sockets.delete(socket);
        // A shard that went away before the start may come back (a restarted pod): it no longer counts until then.
        if (index !== undefined && arrived.get(index) === socket && startAt === undefined && !done) {
          arrived.delete(index);
          announce();
        }
      });
      readLines(socket, (text) => {
        if (index !== undefined) return;
        const hello = parse(text) as Partial<Hello> | undefined;
        // Not a shard (a port scan, a health check, garbage): dropped, the wait goes on.
        if (!hello || !isWhole(hello.index) || !isWhole(hello.count) || typeof hello.scenarioHash !== 'string' || typeof hello.id !== 'string') return void socket.destroy();
        if (hello.count !== count) return fail(`shard ${hello.index} was started as one of ${hello.count} shards, shard 1 as one of ${count}: every shard needs the same --shard N`, ExitCode.invalidInput);
        if (hello.index === 1) return fail('two shards were started as shard 1 of the run', ExitCode.invalidInput);
        if (hello.index < 2 || hello.index > count) return void socket.destroy();
        if (hello.scenarioHash !== o.scenarioHash) {
          return fail(`shard ${hello.index} runs another scenario than shard 1 (scenario hash ${hello.scenarioHash.slice(0, 12)}… against ${o.scenarioHash.slice(0, 12)}…): ` +
            'every shard needs the same scenario file and data files', ExitCode.invalidInput);
        }
        index = hello.index;
        if (startAt !== undefined) {
          // Started already: one that lost the start message on the way gets it again; another process started as that shard would load the target twice.
          if (ids.get(index) === hello.id) return void socket.end(line({ startAt }));
          o.say(`a second shard ${index} came after the start and was refused`);
          return void socket.end(line({ error: twice(index, 'the run started already with another'), exit: ExitCode.invalidInput }));
        }
        const previous = arrived.get(index);
        const live = previous !== undefined && previous !== socket && !previous.destroyed && !previous.readableEnded;
        if (live && ids.get(index) !== hello.id) return fail(twice(index, 'two processes are'), ExitCode.invalidInput);
        arrived.set(index, socket);
        ids.set(index, hello.id);
        // The same process again (it reconnected): the newer connection is the one that counts.
        if (previous && previous !== socket) previous.destroy();
        announce();
        if (arrived.size === count - 1) release();
      }, () => socket.destroy());
    });
    const release = (): void => {
      const at = o.now() + (o.leadMs ?? BARRIER_LEAD_MS);
      startAt = at;
      for (const socket of arrived.values()) socket.end(line({ startAt: at }));
      settle();
      // Late repeats are answered until the start; then the barrier closes.
      longTimeout(() => {
        server.close();
        for (const s of sockets) s.destroy();
      }, at - o.now(), { unref: true });
      resolve(at);
    };
    const fail = (message: string, exit: ExitCodeValue): void => {
      if (done) return;
      for (const socket of sockets) socket.end(line({ error: message, exit }));
      server.close();
      settle();
      // Sockets that do not read their error within a moment are closed anyway.
      setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, 1000).unref();
      reject(new UserError(message, exit));
    };
    const onAbort = (): void => {
      if (done) return;
      server.close();
      for (const s of sockets) s.destroy();
      settle();
      reject(abortedError());
    };
    const cancelTimer = longTimeout(() => fail(arrivedText(status(), o.timeoutMs), ExitCode.shardsNotStarted), o.timeoutMs);
    const settle = (): void => {
      done = true;
      cancelTimer();
      o.signal.removeEventListener('abort', onAbort);
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      settle();
      for (const s of sockets) s.destroy();
      reject(new UserError(`--start-at barrier:${o.host}:${o.port}: shard 1 cannot listen there (${err.code ?? err.message})`, ExitCode.usage));
    });
    server.listen(o.port, listenAddress(o.host), () => {
      if (count === 1) return release();
      announce();
    });
  });
}

/** Shards 2..N: reach shard 1 (again and again if need be) and wait for the start. */
async function follow(o: BarrierOptions): Promise<number> {
  const deadline = o.now() + o.timeoutMs;
  const id = randomUUID();
  const where = `shard 1 at ${o.host}:${o.port}`;
  let last: Arrived | undefined;
  let outcome: Outcome = { retry: 'not tried' };
  let saidWaiting = false;
  for (;;) {
    if (o.signal.aborted) throw abortedError();
    const left = deadline - o.now();
    if (left <= 0) throw new UserError(followTimeout(where, o.timeoutMs, last, outcome), ExitCode.shardsNotStarted);
    let answered = false;
    outcome = await attempt(o, id, last !== undefined, left, (a) => {
      answered = true;
      if (last && arrivedText(last) === arrivedText(a)) return;
      last = a;
      o.say(arrivedText(a));
    });
    if ('startAt' in outcome) return outcome.startAt;
    if (!outcome.atDeadline && (answered || !saidWaiting)) o.say(`${answered ? 'lost' : 'waiting for'} ${where} (${outcome.retry}); retrying`);
    saidWaiting = true;
    await pause(Math.min(RETRY_MS, Math.max(0, deadline - o.now())), o.signal);
  }
}

/** How one connection to shard 1 ended: the start, or why to try again (`atDeadline`: the wait ran out while shard 1 still answered). */
type Outcome = { startAt: number } | { retry: string; atDeadline?: true };

/**
 * Why a shard gave up at the barrier: shard 1 never reached; reached and
 * still waiting for others (what it last said); or reached once, then gone.
 */
function followTimeout(where: string, timeoutMs: number, last: Arrived | undefined, outcome: Outcome): string {
  const why = 'retry' in outcome ? outcome.retry : '';
  if (!last) return `${where} could not be reached within ${formatDuration(timeoutMs)} (${why})`;
  if ('atDeadline' in outcome) return `${arrivedText(last, timeoutMs)} (as shard 1 last said)`;
  const missing = last.missing.length > 0 ? `; missing: ${last.missing.join(', ')}` : '';
  return `${where} went away (${why}) and was not back within the barrier timeout (${formatDuration(timeoutMs)}); ` +
    `when last reached, ${last.arrived} of ${last.count} shards had arrived${missing}`;
}


/** One connection to shard 1 (`reached`: it answered before): the start instant, or why to try again. Throws what shard 1 said ended the run, or an abort. */
function attempt(o: BarrierOptions, id: string, reached: boolean, leftMs: number, onArrived: (a: Arrived) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: o.host, port: o.port });
    let problem = 'the connection closed before the start';
    let settled = false;
    const finish = (outcome: Outcome | UserError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      cancelOverall();
      o.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (outcome instanceof UserError) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => finish(abortedError());
    o.signal.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(() => finish({ retry: `no answer within ${formatDuration(CONNECT_TIMEOUT_MS)}` }), Math.min(CONNECT_TIMEOUT_MS, leftMs));
    const cancelOverall = longTimeout(() => finish({ retry: problem, atDeadline: true }), leftMs);
    socket.on('connect', () => {
      clearTimeout(connectTimer);
      const hello: Hello = { index: o.shard.index + 1, count: o.shard.count, scenarioHash: o.scenarioHash, id };
      socket.write(line(hello));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const refused = reached ? 'connection refused: it is no longer listening' : 'connection refused: it is not listening yet';
      problem = err.code === 'ECONNREFUSED' ? refused : err.code ?? err.message;
    });
    socket.on('close', () => finish({ retry: problem }));
    readLines(socket, (text) => {
      const m = parse(text);
      // Something else answered on that port: not a barrier message, ignored.
      if (!m) return;
      if (typeof m.startAt === 'number' && Number.isFinite(m.startAt)) return finish({ startAt: m.startAt });
      if (typeof m.error === 'string') {
        const exit = m.exit === ExitCode.shardsNotStarted ? ExitCode.shardsNotStarted : ExitCode.invalidInput;
        return finish(new UserError(`shard 1: ${m.error}`, exit));
      }
      if (isWhole(m.arrived) && isWhole(m.count) && Array.isArray(m.missing) && m.missing.every(isWhole)) {
        onArrived({ arrived: m.arrived, count: m.count, missing: m.missing });
      }
    }, () => finish({ retry: 'shard 1 sent a line too long to be a barrier message' }));
  });
}
