// Turns the benchmark's raw results into rows and plain-text tables.

/** Closed model: one pair of runs at equal connections, measured back to back. */
export function closedRow({ workers, round, connections, scalectl, scalectlExit, scalectlCpu, autocannon, autocannonCpu }) {
  const sRps = scalectl.totals.requests / scalectl.durationSec;
  const aRps = autocannon.requests.total / autocannon.duration;
  // CPU time per 1,000 responses, all threads: scalectl's own process meter; autocannon's from this process's (see run.js).
  const sCpuMs = (scalectl.generator.cpuPercent.mean / 100) * scalectl.durationSec * 1000;
  return {
    workers,
    round,
    connections,
    scalectlRps: sRps,
    autocannonRps: aRps,
    /** Each tool's own measured run length, seconds (scalectl: t = 0 to the last response; autocannon: its duration). */
    scalectlSec: scalectl.durationSec,
    autocannonSec: autocannon.duration,
    ratio: sRps / aRps,
    scalectlErrors: scalectl.totals.errors,
    autocannonErrors: autocannon.errors + autocannon.timeouts + autocannon.non2xx,
    scalectlP99Ms: scalectl.totals.latencyMs.p99,
    autocannonP99Ms: autocannon.latency.p99,
    scalectlCpuMeanPct: scalectl.generator.cpuPercent.mean,
    scalectlCpuMsPer1k: (sCpuMs / scalectl.totals.requests) * 1000,
    autocannonCpuMsPer1k: autocannon.cpuMs === undefined ? undefined : (autocannon.cpuMs / autocannon.requests.total) * 1000,
    scalectlSaturated: scalectl.generator.saturated,
    scalectlExit,
    /** Target, generator-process and foreign CPU over each run, % of one core (cpu-meter.js). */
    scalectlCpu,
    autocannonCpu,
  };
}

/**
 * Open model: one run at `rate` arrivals/s for `durationSec`. `achieved` counts
 * every started arrival over the phase length (the executor still starts late
 * arrivals after the phase); `inWindow` counts only those started inside the
 * phase's seconds (from the per-second time series), which is what a target saw.
 */
export function openRow({ workers, rate, durationSec, result, exitCode, cpu }) {
  const it = result.totals.iterations;
  const scheduled = Math.ceil(rate * durationSec);
  const inWindow = result.timeseries
    .filter((p) => p.t < durationSec)
    .reduce((sum, p) => sum + p.offeredRps - p.dropped, 0);
  const g = result.generator;
  return {
    workers,
    rate,
    scheduled,
    offered: it.offered,
    started: it.started,
    dropped: it.dropped,
    achievedRate: it.started / durationSec,
    errorPct: ((it.started - scheduled) / scheduled) * 100,
    inWindowRate: inWindow / durationSec,
    inWindowErrorPct: ((inWindow - scheduled) / scheduled) * 100,
    scheduleLagP99Ms: g.scheduleLagP99Ms,
    eventLoopLagP99Ms: g.eventLoopLagP99Ms,
    eluMax: g.eventLoopUtilization.max,
    cpuMeanPct: g.cpuPercent.mean,
    requestErrors: result.totals.errors,
    latencyP99Ms: result.totals.latencyMs.p99,
    runSec: result.durationSec,
    saturated: g.saturated,
    warnings: g.warnings,
    exitCode,
    cpu,
    // Per second, for reading a run after the fact (JSON output only).
    timeseries: result.timeseries.map((p) => ({ t: p.t, offered: p.offeredRps, dropped: p.dropped, rps: p.rps, p99: p.p99, inFlight: p.inFlight,
      elu: p.generator.elu, loopLagP99Ms: p.generator.loopLagP99Ms, scheduleLagP99Ms: p.generator.scheduleLagP99Ms, cpuPercent: p.generator.cpuPercent })),
  };
}

/** Whether an open-model run meets the goal: |in-window rate error| < 1% (drops count as missing), unless the generator says it saturated. */
export function openVerdict(row) {
  if (row.saturated) return 'saturated (goal n/a)';
  return Math.abs(row.inWindowErrorPct) < 1 ? 'meets' : 'MISSES';
}

const int = (v) => Math.round(v).toLocaleString('en-US');
const pct = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`;

function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

const share = (c, k) => (c?.[k] === undefined ? '?' : Math.round(c[k]));
const fail = (n, msg) => [...Array(n - 1).fill(''), `FAILED: ${msg}`];

export function closedTable(rows) {
  return table(
    ['workers (both)', 'round', 'conns', 'scalectl req/s', 'autocannon req/s', 'ratio', 'p99 ms s/a', 'errors s/a', 'CPU ms per 1k req s/a',
      'target CPU % s/a', 'foreign CPU % s/a', 'scalectl saturated', 'exit'],
    rows.map((r) => [r.workers, r.round, r.connections, ...(r.failed ? fail(10, r.failed) : [int(r.scalectlRps), int(r.autocannonRps), r.ratio.toFixed(3),
      `${r.scalectlP99Ms.toFixed(1)}/${r.autocannonP99Ms}`, `${r.scalectlErrors}/${r.autocannonErrors}`,
      `${r.scalectlCpuMsPer1k.toFixed(0)}/${r.autocannonCpuMsPer1k?.toFixed(0) ?? '?'}`,
      `${share(r.scalectlCpu, 'targetPct')}/${share(r.autocannonCpu, 'targetPct')}`, `${share(r.scalectlCpu, 'foreignPct')}/${share(r.autocannonCpu, 'foreignPct')}`,
      r.scalectlSaturated ? 'yes' : 'no', r.scalectlExit])]),
  );
}

export function openTable(rows) {
  return table(
    ['rate/s', 'workers', 'scheduled', 'started', 'dropped', 'achieved/s', 'error', 'in-window/s', 'in-window error', 'sched lag p99 ms', 'ELU max',
      'CPU %', 'target CPU %', 'foreign CPU %', 'req errors', 'p99 ms', 'saturated', 'goal'],
    rows.map((r) => [int(r.rate), r.workers, ...(r.failed ? fail(16, r.failed) : [int(r.scheduled), int(r.started), int(r.dropped), int(r.achievedRate), pct(r.errorPct),
      int(r.inWindowRate), pct(r.inWindowErrorPct), r.scheduleLagP99Ms, r.eluMax, r.cpuMeanPct, share(r.cpu, 'targetPct'), share(r.cpu, 'foreignPct'),
      r.requestErrors, r.latencyP99Ms, r.saturated ? 'yes' : 'no',
      `${openVerdict(r)}${r.exitCode ? ` (exit ${r.exitCode})` : ''}`])]),
  );
}
