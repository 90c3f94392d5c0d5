// scalectl's speed benchmark (`npm run bench`; docs/benchmarks.md).
//
// Against one local target started here (nginx if installed, else a minimal
// Node server in a child process), in one run and one at a time:
//   1. closed model at 1, 50 and 256 connections, interleaved rounds of three
//      contenders: scalectl as shipped (`defaults.httpClient` auto: the lean
//      client), scalectl on undici only (the path before issue 16) and
//      autocannon; req/s, the ratios to autocannon, CPU ms per 1,000 requests;
//   2. open model: scalectl `arrivalRate: R` at 5k and 20k/s with --workers 2;
//      arrivals started vs the schedule, drops, lateness (schedule lag), the
//      generator's verdict;
//   3. --pin: target on the last core, generators on the others (taskset),
//      closed model with --workers 1 and 2: the scaling factor.
//
// Options: --duration <s> (5) --connections <list> (1,50,256) --rounds <n> (3)
//   --rates <list> (5000,20000) --open-workers <list> (2) --no-undici
//   --pin / --no-pin (on when taskset exists and there are >= 2 cores)
//   --pin-connections <n> (50) --pin-rounds <n> (1)
//   --target-kind auto|nginx|node (auto) --json <file> --keep
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadWindow, startCpuMeter } from './cpu-meter.js';
import { allowedCpus, hasTaskset, pinPlan, pinSection, pinSeconds } from './pin.js';
import { autocannonFigures, closedFailures, closedMeans, closedRow, closedTable, closedVerdict, CONTENDERS, openRow, openTable, openVerdictLines,
  scalectlFigures } from './report.js';
import { acceptsHttpClient, killChildren, runAutocannon, runScalectl } from './runners.js';
import { startTarget } from './targets.js';

const USAGE = `usage: node bench/run.js [options]   (npm run bench -- [options]; docs/benchmarks.md)
  --duration <s> (5)  --connections <list> (1,50,256)  --rounds <n> (3)
  --rates <list> (5000,20000)  --open-workers <list> (2)  --no-undici
  --pin / --no-pin (on when taskset exists and >= 2 CPUs are allowed)  --pin-connections <n> (50)  --pin-rounds <n> (1)
  --target-kind auto|nginx|node (auto)  --json <file>  --keep (keep the temp dir)  --help`;

let opt;
try {
  ({ values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '1,50,256' },
    rounds: { type: 'string', default: '3' },
    rates: { type: 'string', default: '5000,20000' },
    'open-workers': { type: 'string', default: '2' },
    undici: { type: 'boolean', default: true },
    pin: { type: 'boolean' },
    'pin-connections': { type: 'string', default: '50' },
    'pin-rounds': { type: 'string', default: '1' },
    'target-kind': { type: 'string', default: 'auto' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowNegative: true,
  }));
} catch (err) {
  console.error(`bench: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}

const list = (s) => s.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const durationSec = Number(opt.duration);
const connectionCounts = list(opt.connections);
const rounds = Number(opt.rounds);
const rates = list(opt.rates);
const openWorkers = list(opt['open-workers']);
const pinConnections = Number(opt['pin-connections']);
const pinRounds = Number(opt['pin-rounds']);
if (!(durationSec > 0 && durationSec <= 30) || !connectionCounts.length || !(rounds >= 1) || !rates.length || !openWorkers.length
  || !(pinConnections >= 1) || !(pinRounds >= 1) || !['auto', 'nginx', 'node'].includes(opt['target-kind'])) {
  console.error(`bench: bad options\n${USAGE}`);
  process.exit(2);
}
// --pin unset: on where it can run; --pin where it cannot is a usage error.
const pinCpus = allowedCpus();
const pinPossible = hasTaskset() && pinCpus.length >= 2;
if (opt.pin && !pinPossible) {
  console.error('bench: --pin needs taskset (util-linux) and at least 2 CPUs this process may run on');
  process.exit(2);
}
const pin = opt.pin ?? pinPossible;

const dir = mkdtempSync(join(tmpdir(), 'scalectl-bench-'));
const controller = new AbortController();
/** Targets running now (the main one, the pinned one), for cleanup. */
const targets = new Set();

// Cleanup: a first Ctrl-C stops the running measurement and the target and
// removes the temp dir; a second one does it at once; exit covers the rest.
let signals = 0;
const onSignal = (sig) => {
  if (++signals === 1) {
    console.error(`\nbench: ${sig}, stopping the run and the target`);
    process.exitCode = 130;
    controller.abort(new Error(`interrupted by ${sig}`));
  } else process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', () => {
  killChildren();
  for (const t of targets) t.killNow();
  if (opt.keep) console.error(`bench: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
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

/** Start-up, worker threads, drain and the result file of one scalectl run, s (a rough mean on a small machine, for the estimate only). */
const SCALECTL_OVERHEAD_SEC = 1.5;

/** The whole run's expected length, s: every measurement one after the other. */
function expectedSeconds(contenders) {
  const scalectlRuns = contenders.filter((c) => c !== 'autocannon').length;
  const closed = connectionCounts.length * rounds * (scalectlRuns * (durationSec + SCALECTL_OVERHEAD_SEC) + durationSec + 0.5);
  const open = rates.length * openWorkers.length * (durationSec + SCALECTL_OVERHEAD_SEC);
  return Math.round(closed + open + (pin ? pinSeconds({ durationSec, rounds: pinRounds, overheadSec: SCALECTL_OVERHEAD_SEC }) : 0) + 5);
}

/** Runs one measurement; a failed run becomes { failed } instead of ending the benchmark (unless interrupted). */
async function attempt(target, what, fn, signal) {
  const stopMeter = startCpuMeter(target.pid);
  try {
    const got = await fn();
    // Over the run's own load window (not scalectl's start-up and teardown), so the tools compare alike.
    return { ...got, cpuShares: stopMeter(loadWindow(got)) };
  } catch (err) {
    stopMeter();
    if (signal.aborted) throw err;
    log(`  FAILED: ${what}: ${err.message.split('\n')[0]}`);
    return { failed: err.message.split('\n')[0] };
  }
}

/** One closed-model run of one contender, as figures (or { failed }). */
async function closedRun(target, tool, connections, round, signal) {
  const got = await attempt(target, `${tool}, ${connections} connections`, () => (tool === 'autocannon'
    ? runAutocannon({ url: target.url, connections, durationSec, workers: 1, signal })
    : runScalectl({ dir, name: `closed-${tool}-c${connections}-r${round}`, target: target.url, phase: { duration: `${durationSec}s`, vus: connections },
      workers: 1, httpClient: tool === 'undici' ? 'undici' : undefined, durationSec, signal })), signal);
  if (got.failed) return got;
  return tool === 'autocannon' ? autocannonFigures(got, got.cpuShares) : scalectlFigures(got.result, got.exitCode, got.cpuShares);
}

async function closedModel(target, contenders, signal) {
  const rows = [];
  for (const connections of connectionCounts) {
    for (let round = 1; round <= rounds; round++) {
      // Rotate who goes first so drift over the run (heat, caches) favours no one.
      const order = contenders.map((_, i) => contenders[(i + round - 1) % contenders.length]);
      const runs = {};
      for (const tool of order) {
        log(`closed model: ${tool}, ${connections} connection(s), ${durationSec} s (round ${round})`);
        runs[tool] = await closedRun(target, tool, connections, round, signal);
      }
      const row = closedRow({ connections, round, runs });
      log(`  ${contenders.map((t) => `${t} ${runs[t].failed ? 'FAILED' : `${Math.round(runs[t].rps)} req/s`}`).join(', ')}` +
        `${row.ratio === undefined ? '' : `; ratio ${row.ratio.toFixed(3)}`}${row.undiciRatio === undefined ? '' : ` (undici ${row.undiciRatio.toFixed(3)})`}`);
      rows.push(row);
    }
  }
  return rows;
}

/** Most open-model iterations in flight: far above what a target that keeps up needs (rate x latency, ~40 at 20k/s and 2 ms). */
const OPEN_MAX_IN_FLIGHT = 2000;

async function openModel(target, signal) {
  const rows = [];
  for (const rate of rates) {
    for (const workers of openWorkers) {
      log(`open model: ${rate} arrivals/s, --workers ${workers}, ${durationSec} s`);
      const got = await attempt(target, `open model ${rate}/s --workers ${workers}`, () => runScalectl({ dir, name: `open-${rate}-w${workers}`, target: target.url,
        phase: { duration: `${durationSec}s`, arrivalRate: rate }, workers, maxInFlight: OPEN_MAX_IN_FLIGHT, durationSec, signal }), signal);
      if (got.failed) {
        rows.push({ workers, rate, failed: got.failed });
        continue;
      }
      const row = openRow({ workers, rate, durationSec, result: got.result, exitCode: got.exitCode, cpu: got.cpuShares });
      log(`  started ${row.started}/${row.scheduled} (${row.errorPct.toFixed(2)}%), dropped ${row.dropped}, schedule lag p99 (worst second) ${row.scheduleLagP99Ms} ms, saturated ${row.saturated}`);
      rows.push(row);
    }
  }
  return rows;
}

/** Starts a target and registers it for cleanup; stops it again if Ctrl-C came meanwhile. */
async function withTarget(options, fn) {
  const target = await startTarget(dir, opt['target-kind'], options);
  targets.add(target);
  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    return await fn(target);
  } finally {
    await target.stop();
    targets.delete(target);
  }
}

/** What 'auto' actually sent through the lean client (it falls back to undici per request). */
function leanLine(closed) {
  const runs = closed.map((r) => r.runs.scalectl).filter((x) => x && !x.failed);
  const pcts = runs.map((x) => x.leanPct).filter((v) => v !== undefined);
  if (!pcts.length) return "scalectl (auto): this build reports no generator.httpClient usage: which client sent the requests is unknown";
  const reasons = [...new Set(runs.flatMap((x) => x.undiciReasons ?? []))];
  return `scalectl (auto): ${Math.min(...pcts).toFixed(1)}-${Math.max(...pcts).toFixed(1)}% of requests through the lean client` +
    `${reasons.length ? `; undici for: ${reasons.join('; ')}` : ''}`;
}

async function main() {
  const m = machine();
  const probe = opt.undici ? await acceptsHttpClient(dir, 'http://127.0.0.1:9') : { ok: false, message: '--no-undici' };
  const contenders = CONTENDERS.filter((t) => t !== 'undici' || probe.ok);
  const plan = pin ? pinPlan(pinCpus) : undefined;
  const expected = expectedSeconds(contenders);
  log(`expected duration: about ${expected} s (${(expected / 60).toFixed(1)} min)`);
  if (!probe.ok && opt.undici) log(`this build refuses defaults.httpClient (${probe.message}): the undici contender is left out`);
  let closed;
  let open;
  let busy;
  let load;
  let description;
  const started = Date.now();
  await withTarget({}, async (target) => {
    description = target.description;
    log(`target: ${target.description} at ${target.url}`);
    if (target.kind !== 'nginx' && opt['target-kind'] === 'auto') log('nginx is not installed (scripts/ensure-nginx.js installs it as root on Debian): measuring against the Node target instead');
    // Anything else busy on the machine skews every figure: say so up front.
    busy = await busyPercent(1000);
    load = loadavg()[0];
    log(`before the run: CPU ${busy.toFixed(0)}% busy over 1 s, load average ${load.toFixed(2)}${busy > 10 ? ' -- something else is running; the figures will be low' : ''}`);
    log(`machine: ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, ${m.os}, Node ${m.node}, autocannon ${m.autocannon}, scalectl ${m.scalectl}`);
    closed = await closedModel(target, contenders, controller.signal);
    open = await openModel(target, controller.signal);
  });
  const means = closedMeans(closed, connectionCounts);
  const report = { machine: m, cpuBusyBeforePct: busy, loadBefore: load, target: description, durationSec, contenders, closed, closedMeans: means, open };
  const writeJson = () => { if (opt.json) writeFileSync(opt.json, JSON.stringify(report, null, 2)); };
  console.log(`\nClosed model: max throughput, ${durationSec} s per run, --workers 1 (s = scalectl auto, u = scalectl httpClient undici, a = autocannon; ratio = x / autocannon, same round)\n`);
  console.log(closedTable(closed));
  for (const line of closedFailures(closed)) console.log(`  ${line}`);
  console.log(`\nOpen model: rate accuracy, one phase of ${durationSec} s per run (maxInFlight ${OPEN_MAX_IN_FLIGHT})\n`);
  console.log(openTable(open));
  console.log(`\nGoals (issue 16)\n  ${leanLine(closed)}`);
  for (const mean of means) console.log(`  ${closedVerdict(mean)}`);
  for (const line of openVerdictLines(open)) console.log(`  ${line}`);
  // Written now, so a failure or Ctrl-C in the pinned section keeps the rest.
  writeJson();

  let pinned;
  if (plan) {
    try {
      pinned = await withTarget({ cpus: plan.targetCpus }, (target) => pinSection({ target, plan, dir, durationSec, connections: pinConnections,
        rounds: pinRounds, attempt: (what, fn) => attempt(target, what, fn, controller.signal), log, signal: controller.signal }));
    } catch (err) {
      if (controller.signal.aborted) throw err;
      const failed = err.message.split('\n')[0];
      log(`  FAILED: --pin section: ${failed}`);
      pinned = { text: `--pin: target on CPU ${plan.targetCpus}, generators on CPU ${plan.generatorCpus}: the section failed (no figures)`, summary: [`--pin: FAILED: ${failed}`], data: { plan, failed } };
    }
    console.log(`\n${pinned.text}\n`);
    for (const line of pinned.summary) console.log(`  ${line}`);
    report.pinned = pinned.data;
    writeJson();
  } else console.log(`\n  --pin: not run (${opt.pin === false ? '--no-pin' : 'needs taskset and >= 2 allowed CPUs'})`);
  console.log(`\ntarget: ${description}; ${m.cores} cores, ${m.cpu}; Node ${m.node}; autocannon ${m.autocannon}; scalectl ${m.scalectl}; ` +
    `CPU busy before ${busy.toFixed(0)}%; ${Math.round((Date.now() - started) / 1000)} s (expected ${expected} s)`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(`bench: ${controller.signal.aborted ? controller.signal.reason.message : err.stack ?? err}`);
    process.exit(controller.signal.aborted ? 130 : 1);
  },
);
