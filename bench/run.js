// scalectl's speed benchmark (`npm run bench`; docs/benchmarks.md).
//
// Against one local target started here (nginx if installed, else a minimal
// Node server in a child process), in one run and one at a time:
//   1. closed model: scalectl `vus: C` vs autocannon `connections: C`, same
//      duration, --workers 1 and 2 on both sides; req/s and the ratio;
//   2. open model: scalectl `arrivalRate: R` at 1k, 5k and 20k/s; arrivals
//      started vs scheduled, schedule lag and the generator's own verdict.
//
// Options: --duration <s> (5) --connections <n> (50) --rounds <n> (2)
//   --rates <list> (1000,5000,20000) --workers <list> (1,2)
//   --target-kind auto|nginx|node (auto) --json <file> --keep
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCpuMeter } from './cpu-meter.js';
import { closedRow, closedTable, openRow, openTable, openVerdict } from './report.js';
import { killChildren, runAutocannon, runScalectl } from './runners.js';
import { startTarget } from './targets.js';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    rates: { type: 'string', default: '1000,5000,20000' },
    workers: { type: 'string', default: '1,2' },
    'target-kind': { type: 'string', default: 'auto' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const list = (s) => s.split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0);
const durationSec = Number(opt.duration);
const connections = Number(opt.connections);
const rounds = Number(opt.rounds);
const rates = list(opt.rates);
const workerCounts = list(opt.workers);
if (!(durationSec > 0 && durationSec <= 30) || !(connections >= 1) || !(rounds >= 1) || !rates.length || !workerCounts.length
  || !['auto', 'nginx', 'node'].includes(opt['target-kind'])) {
  console.error('bench: bad options (see the head of bench/run.js)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'scalectl-bench-'));
const controller = new AbortController();
let target;

// Cleanup: a first Ctrl-C stops the running measurement and the target and
// removes the temp dir; a second one does it at once; exit covers the rest.
let signals = 0;
const onSignal = (sig) => {
  if (++signals === 1) {
    console.error(`\nbench: ${sig}, stopping the run and the target`);
    controller.abort(new Error(`interrupted by ${sig}`));
  } else process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', () => {
  killChildren();
  target?.killNow();
  if (!opt.keep) rmSync(dir, { recursive: true, force: true });
});

function machine() {
  const git = (...args) => { try { return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return '?'; } };
  // The build measures the working tree: name uncommitted source changes and fingerprint them.
  const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).map((l) => l.slice(3));
  const dirty = changed.length
    ? ` + uncommitted ${changed.join(', ')} (diff sha1 ${createHash('sha1').update(git('diff', 'HEAD', '--', 'src')).digest('hex').slice(0, 10)})`
    : '';
  const ac = JSON.parse(readFileSync(new URL('../node_modules/autocannon/package.json', import.meta.url), 'utf8')).version;
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? '?',
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
    autocannon: ac,
    scalectl: `${git('rev-parse', '--short', 'HEAD')}${dirty}`,
  };
}

/** Share of all cores' time that was not idle over `ms`, percent. */
async function busyPercent(ms) {
  const sum = () => cpus().reduce((a, c) => { const t = c.times; a.all += t.user + t.nice + t.sys + t.idle + t.irq; a.idle += t.idle; return a; }, { all: 0, idle: 0 });
  const a = sum();
  await new Promise((r) => setTimeout(r, ms));
  const b = sum();
  return b.all > a.all ? (1 - (b.idle - a.idle) / (b.all - a.all)) * 100 : 0;
}

const log = (s) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Runs one measurement; a failed run becomes a row with its error instead of ending the benchmark (unless interrupted). */
async function attempt(what, fn, signal) {
  const stopMeter = startCpuMeter(target.pid);
  try {
    const got = await fn();
    return { ...got, cpuShares: stopMeter() };
  } catch (err) {
    if (signal.aborted) throw err;
    log(`  FAILED: ${what}: ${err.message}`);
    return { failed: err.message.split('\n')[0] };
  }
}

async function closedModel(signal) {
  const rows = [];
  for (const workers of workerCounts) {
    for (let round = 1; round <= rounds; round++) {
      // Alternate who goes first so drift over the run (heat, caches) does not favour one side.
      const order = round % 2 ? ['autocannon', 'scalectl'] : ['scalectl', 'autocannon'];
      const got = {};
      for (const tool of order) {
        log(`closed model: ${tool}, ${connections} connections, --workers ${workers}, ${durationSec} s (round ${round})`);
        got[tool] = await attempt(`${tool} --workers ${workers}`, () => (tool === 'autocannon'
          ? runAutocannon({ url: target.url, connections, durationSec, workers, signal })
          : runScalectl({ dir, name: `closed-w${workers}-r${round}`, target: target.url, phase: { duration: `${durationSec}s`, vus: connections }, workers, durationSec, signal })), signal);
      }
      if (got.autocannon.failed || got.scalectl.failed) {
        rows.push({ workers, round, connections, failed: got.autocannon.failed ?? got.scalectl.failed });
        continue;
      }
      const row = closedRow({ workers, round, connections, scalectl: got.scalectl.result, scalectlExit: got.scalectl.exitCode, scalectlCpu: got.scalectl.cpuShares,
        autocannon: got.autocannon, autocannonCpu: got.autocannon.cpuShares });
      log(`  scalectl ${Math.round(row.scalectlRps)} req/s, autocannon ${Math.round(row.autocannonRps)} req/s, ratio ${row.ratio.toFixed(3)}`);
      rows.push(row);
    }
  }
  return rows;
}

/** Most open-model iterations in flight: far above what a target that keeps up needs (rate x latency, ~40 at 20k/s and 2 ms). */
const OPEN_MAX_IN_FLIGHT = 2000;

async function openModel(signal) {
  const rows = [];
  for (const rate of rates) {
    for (const workers of workerCounts) {
      log(`open model: ${rate} arrivals/s, --workers ${workers}, ${durationSec} s`);
      const got = await attempt(`open model ${rate}/s --workers ${workers}`, () => runScalectl({ dir, name: `open-${rate}-w${workers}`, target: target.url,
        phase: { duration: `${durationSec}s`, arrivalRate: rate }, workers, maxInFlight: OPEN_MAX_IN_FLIGHT, durationSec, signal }), signal);
      if (got.failed) {
        rows.push({ workers, rate, failed: got.failed });
        continue;
      }
      const row = openRow({ workers, rate, durationSec, result: got.result, exitCode: got.exitCode, cpu: got.cpuShares });
      log(`  started ${row.started}/${row.scheduled}, in-window ${row.inWindowErrorPct.toFixed(2)}%, lag p99 ${row.scheduleLagP99Ms} ms, saturated ${row.saturated}`);
      rows.push(row);
    }
  }
  return rows;
}

function summary(closed, open) {
  const byWorkers = workerCounts.map((w) => {
    const rs = closed.filter((r) => r.workers === w && !r.failed);
    const mean = (f) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    return { workers: w, runs: rs.length, scalectlRps: mean((r) => r.scalectlRps), autocannonRps: mean((r) => r.autocannonRps), ratio: mean((r) => r.ratio) };
  });
  const lines = byWorkers.map((s) => (s.runs === 0 ? `  --workers ${s.workers}: no successful pair of runs`
    : `  --workers ${s.workers}: scalectl ${Math.round(s.scalectlRps)} req/s vs autocannon ${Math.round(s.autocannonRps)} req/s, ` +
      `ratio ${s.ratio.toFixed(3)} (mean of ${s.runs}) -> ${s.ratio >= 1 ? 'meets' : 'MISSES'} the goal (>= 1.0)`));
  for (const r of open) {
    lines.push(`  ${r.rate}/s, --workers ${r.workers}: ${r.failed ? `FAILED: ${r.failed}` : openVerdict(r)}${r.warnings?.length ? `; ${r.warnings.join('; ')}` : ''}`);
  }
  return { byWorkers, text: lines.join('\n') };
}

async function main() {
  const m = machine();
  target = await startTarget(dir, opt['target-kind']);
  if (controller.signal.aborted) {
    await target.stop();
    throw controller.signal.reason;
  }
  log(`target: ${target.description} at ${target.url}`);
  // Anything else busy on the machine skews every figure: say so up front.
  const busy = await busyPercent(1000);
  const load = loadavg()[0];
  log(`before the run: CPU ${busy.toFixed(0)}% busy over 1 s, load average ${load.toFixed(2)}${busy > 10 ? ' -- something else is running; the figures will be low' : ''}`);
  log(`machine: ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, ${m.os}, Node ${m.node}, autocannon ${m.autocannon}, scalectl ${m.scalectl}`);
  const started = Date.now();
  let closed;
  let open;
  try {
    closed = await closedModel(controller.signal);
    open = await openModel(controller.signal);
  } finally {
    await target.stop();
  }
  const s = summary(closed, open);
  console.log(`\nClosed model: max throughput at ${connections} connections, ${durationSec} s per run (ratio = scalectl / autocannon, same round)\n`);
  console.log(closedTable(closed));
  console.log(`\nOpen model: rate accuracy, one phase of ${durationSec} s per run\n`);
  console.log(openTable(open));
  console.log(`\nGoals: closed-model ratio >= 1.0; open-model rate error < 1% up to the rate where the generator reports saturation\n${s.text}`);
  console.log(`\ntarget: ${target.description}; ${m.cores} cores, ${m.cpu}; Node ${m.node}; autocannon ${m.autocannon}; scalectl ${m.scalectl}; ` +
    `CPU busy before ${busy.toFixed(0)}%; ${Math.round((Date.now() - started) / 1000)} s`);
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ machine: m, cpuBusyBeforePct: busy, loadBefore: load, target: target.description, durationSec, connections, closed, closedMeans: s.byWorkers, open }, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${controller.signal.aborted ? controller.signal.reason.message : err.stack ?? err}`);
    process.exit(controller.signal.aborted ? 130 : 1);
  },
);
