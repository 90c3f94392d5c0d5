// The benchmark's --pin section: does `--workers N` scale when the target
// does not compete for the generator's cores? The target runs on the last core
// and the generators on the others (`taskset -c`); closed model, --workers 1
// then 2, scalectl and (for reference) autocannon. The scaling factor is
// rps(2 workers) / rps(1 worker).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { autocannonFigures, scalectlFigures, table } from './report.js';
import { runAutocannon, runScalectl } from './runners.js';

/** Worker counts compared. */
const PIN_WORKERS = [1, 2];

/** Whether `taskset` (util-linux) is on PATH. */
export function hasTaskset() {
  return spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
}

/** "0-2,5" (a Cpus_allowed_list) -> [0, 1, 2, 5]. */
export function parseCpuList(text) {
  return text.trim().split(',').filter(Boolean).flatMap((part) => {
    const [a, b = a] = part.split('-').map(Number);
    return Number.isInteger(a) && Number.isInteger(b) && b >= a ? Array.from({ length: b - a + 1 }, (_, i) => a + i) : [];
  });
}

/**
 * The CPU ids this process may run on (its affinity: /proc/self/status
 * Cpus_allowed_list), which need not be 0..n-1 (a container or a taskset'd
 * shell). Without /proc: 0..availableParallelism()-1.
 */
export function allowedCpus() {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const ids = m ? parseCpuList(m[1]) : [];
    if (ids.length) return ids;
  } catch { /* no /proc */ }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}

/** Which CPUs go where, from the allowed ids (>= 2): the target gets the last one, the generator the rest. */
export function pinPlan(cpuIds) {
  const rest = cpuIds.slice(0, -1);
  return {
    targetCpus: String(cpuIds[cpuIds.length - 1]),
    generatorCpus: rest.join(','),
    generatorCores: rest.length,
  };
}

/** How long the section takes, s (for the benchmark's estimate). */
export function pinSeconds({ durationSec, rounds, overheadSec }) {
  return rounds * PIN_WORKERS.length * (durationSec + overheadSec + durationSec + 0.5);
}

const int = (v) => Math.round(v).toLocaleString('en-US');
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/**
 * Runs the section against `target` (already pinned to plan.targetCpus).
 * attempt(what, fn): the benchmark's wrapper (CPU shares, a failure becomes { failed }).
 * Returns { text (the table), summary (lines), data (for --json) }.
 */
export async function pinSection({ target, plan, dir, durationSec, connections, rounds, attempt, log, signal }) {
  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    for (const workers of PIN_WORKERS) {
      const order = round % 2 ? ['scalectl', 'autocannon'] : ['autocannon', 'scalectl'];
      const runs = {};
      for (const tool of order) {
        log(`--pin: ${tool} on CPU ${plan.generatorCpus}, target on CPU ${plan.targetCpus}, ${connections} connections, --workers ${workers} (round ${round})`);
        const got = await attempt(`--pin ${tool} --workers ${workers}`, () => (tool === 'autocannon'
          ? runAutocannon({ url: target.url, connections, durationSec, workers, cpus: plan.generatorCpus, signal })
          : runScalectl({ dir, name: `pin-w${workers}-r${round}`, target: target.url, phase: { duration: `${durationSec}s`, vus: connections },
            workers, cpus: plan.generatorCpus, durationSec, signal })));
        runs[tool] = got.failed ? got
          : tool === 'autocannon' ? autocannonFigures(got, got.cpuShares) : scalectlFigures(got.result, got.exitCode, got.cpuShares);
      }
      log(`  ${order.map((t) => `${t} ${runs[t].failed ? 'FAILED' : `${int(runs[t].rps)} req/s`}`).join(', ')}`);
      rows.push({ workers, round, runs });
    }
  }
  const factor = (tool) => {
    const rps = (w) => mean(rows.filter((r) => r.workers === w && !r.runs[tool].failed).map((r) => r.runs[tool].rps));
    const [one, two] = PIN_WORKERS.map(rps);
    return one && two ? two / one : undefined;
  };
  const scaling = { scalectl: factor('scalectl'), autocannon: factor('autocannon') };
  const cell = (run, f) => (run.failed ? 'FAILED' : f(run));
  const text = [
    `--pin: target on CPU ${plan.targetCpus}, generators on CPU ${plan.generatorCpus} (taskset -c), ${connections} connections, ${durationSec} s per run\n`,
    table(['workers', 'round', 'scalectl req/s', 'autocannon req/s', 'CPU ms per 1k req s/a', 'p99 ms s/a', 'target CPU % s/a', 'exit s'],
      rows.map((r) => [r.workers, r.round, cell(r.runs.scalectl, (x) => int(x.rps)), cell(r.runs.autocannon, (x) => int(x.rps)),
        ['scalectl', 'autocannon'].map((t) => cell(r.runs[t], (x) => x.cpuMsPer1k?.toFixed(1) ?? '?')).join('/'),
        ['scalectl', 'autocannon'].map((t) => cell(r.runs[t], (x) => x.p99Ms.toFixed(1))).join('/'),
        ['scalectl', 'autocannon'].map((t) => cell(r.runs[t], (x) => (x.cpu?.targetPct === undefined ? '?' : Math.round(x.cpu.targetPct)))).join('/'),
        cell(r.runs.scalectl, (x) => x.exitCode)])),
    ...rows.flatMap((r) => ['scalectl', 'autocannon'].filter((t) => r.runs[t].failed).map((t) => `  --workers ${r.workers}, round ${r.round}, ${t}: ${r.runs[t].failed}`)),
  ].join('\n');
  const f = (v) => (v === undefined ? 'n/a (a run failed)' : v.toFixed(2));
  const summary = [
    `--pin scaling factor rps(2 workers) / rps(1 worker), mean of ${rounds} round(s): scalectl ${f(scaling.scalectl)}, autocannon ${f(scaling.autocannon)}`,
    plan.generatorCores < 2
      ? `--pin: the generator has ${plan.generatorCores} core here; 2 workers cannot scale; needs >= 3 cores (the figure above shows the cost of a second worker on one core, not scaling)`
      : `--pin: the generator has ${plan.generatorCores} cores; linear scaling would be 2.00`,
  ];
  return { text, summary, data: { plan, connections, rows, scaling } };
}
