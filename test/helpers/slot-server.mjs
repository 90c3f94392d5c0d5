// A service with a known capacity: `slots` requests are served at once, each
// taking `serviceMs`; the rest wait in a FIFO queue. Capacity = slots /
// serviceMs per ms. Run with fork(); it sends {port} once listening on
// 127.0.0.1:0. Control: POST /__slots?n=N (what a --scale-cmd calls).
//
// Noise, all off by default (environment):
// - TAIL_SHARE, TAIL_MS: that share of answers (chosen at random, independently)
//   takes TAIL_MS longer, holding its slot: a tail that does not grow with load;
// - STALL_EVERY_MS, STALL_MS: every STALL_EVERY_MS the whole service pauses for
//   STALL_MS (a garbage collector, a noisy neighbour): no answer leaves during it;
// - COLD_MS, COLD_FACTOR: for COLD_MS after start and after each resize, the
//   service time is COLD_FACTOR times longer (cold caches, JIT, connections);
//   COLD_RESIZES limits that to the first N resizes, and a later resize ends any
//   cold period still running (a host disturbed until the target moved off it).
// SEED seeds the random tail, so runs repeat.
import { createServer } from 'node:http';

let slots = Number(process.env.SLOTS ?? 4);
const serviceMs = Number(process.env.SERVICE_MS ?? 25);
const tailShare = Number(process.env.TAIL_SHARE ?? 0);
const tailMs = Number(process.env.TAIL_MS ?? 0);
const stallEveryMs = Number(process.env.STALL_EVERY_MS ?? 0);
const stallMs = Number(process.env.STALL_MS ?? 0);
const coldMs = Number(process.env.COLD_MS ?? 0);
const coldFactor = Number(process.env.COLD_FACTOR ?? 1);
const coldResizes = Number(process.env.COLD_RESIZES ?? Infinity);
let resizes = 0;
let seed = Number(process.env.SEED ?? 1) >>> 0;
// mulberry32: a small seeded generator, so a noisy run repeats.
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
let coldUntil = Date.now() + coldMs;
let stalledUntil = 0;
if (stallEveryMs > 0) setInterval(() => void (stalledUntil = Date.now() + stallMs), stallEveryMs).unref();

let busy = 0;
const waiting = [];

function release() {
  busy--;
  while (busy < slots && waiting.length) {
    busy++;
    waiting.shift()();
  }
}

/** Answers, or holds the answer until a stall is over. */
function answer(res) {
  const wait = stalledUntil - Date.now();
  if (wait > 0) setTimeout(() => answer(res), wait);
  else res.end('ok');
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__slots') {
    slots = Number(url.searchParams.get('n'));
    coldUntil = ++resizes <= coldResizes ? Date.now() + coldMs : 0;
    res.end(JSON.stringify({ slots }));
    return;
  }
  if (url.pathname === '/__ready') {
    res.end('ok');
    return;
  }
  const serve = () => {
    const ms = serviceMs * (Date.now() < coldUntil ? coldFactor : 1) + (tailShare > 0 && random() < tailShare ? tailMs : 0);
    setTimeout(() => {
      answer(res);
      release();
    }, ms);
  };
  if (busy < slots) {
    busy++;
    serve();
  } else {
    waiting.push(serve);
  }
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
