// Turns the benchmark's raw results into rows and plain-text tables.

/** The closed-model contenders, in table order: scalectl as shipped, scalectl on undici only (the path before issue 16), autocannon. */
export const CONTENDERS = ['scalectl', 'undici', 'autocannon'];

/**
 * One scalectl run reduced to what the tables compare. CPU is scalectl's own
 * process meter (all threads) over its run; `leanPct`: the share of requests
 * the lean client sent (RunResult generator.httpClient, when the build reports it).
 */
export function scalectlFigures(result, exitCode, cpuShares) {
  const g = result.generator;
  const cpuMs = (g.cpuPercent.mean / 100) * result.durationSec * 1000;
  const usage = g.httpClient;
  const sent = usage ? usage.lean + usage.undici : 0;
  return {
    rps: result.totals.requests / result.loadDurationSec,
    /** The tool's own load window, s (the phases; durationSec adds settling and teardown). */
    sec: result.loadDurationSec,
    requests: result.totals.requests,
    errors: result.totals.errors,
    p99Ms: result.totals.latencyMs.p99,
    cpuMsPer1k: (cpuMs / result.totals.requests) * 1000,
    saturated: g.saturated,
    leanPct: sent ? (usage.lean / sent) * 100 : undefined,
    undiciReasons: usage?.undiciReasons,
    exitCode,
    /** Target, generator-process and foreign CPU over the run, % of one core (cpu-meter.js). */
    cpu: cpuShares,
  };
}

/** One autocannon run: CPU from this process (it runs in it), over its run. */
export function autocannonFigures(ac, cpuShares) {
  return {
    rps: ac.requests.total / ac.duration,
    sec: ac.duration,
    requests: ac.requests.total,
    // ac.errors already counts the timeouts.
    errors: ac.errors + ac.non2xx,
    p99Ms: ac.latency.p99,
    cpuMsPer1k: ac.cpuMs === undefined ? undefined : (ac.cpuMs / ac.requests.total) * 1000,
    cpu: cpuShares,
  };
}

/** Closed model: one round at `connections`, each contender's figures (or { failed }, or undefined when skipped), and the ratios to autocannon. */
export function closedRow({ connections, round, runs }) {
  const ratio = (tool) => (runs[tool]?.rps && runs.autocannon?.rps ? runs[tool].rps / runs.autocannon.rps : undefined);
  return { connections, round, runs, ratio: ratio('scalectl'), undiciRatio: ratio('undici') };
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** Means over the rounds at each connection count; ratios are means of each round's ratio (same-round pairs). */
export function closedMeans(rows, connectionCounts) {
  return connectionCounts.map((connections) => {
    const rs = rows.filter((r) => r.connections === connections);
    const of = (tool, k) => mean(rs.map((r) => r.runs[tool]?.[k]).filter((v) => v !== undefined));
    const by = Object.fromEntries(CONTENDERS.map((t) => [t, { rps: of(t, 'rps'), cpuMsPer1k: of(t, 'cpuMsPer1k') }]));
    const ratios = rs.map((r) => r.ratio).filter((v) => v !== undefined);
    const undiciRatios = rs.map((r) => r.undiciRatio).filter((v) => v !== undefined);
    return { connections, rounds: ratios.length, ...by, ratio: mean(ratios), undiciRatio: mean(undiciRatios) };
  });
}

/** Goal of issue 16: scalectl >= 1.0x autocannon's req/s (the bar), 1.5x (the aim). */
export const CLOSED_GOAL = { meets: 1.0, aim: 1.5 };

const conns = (n) => `${n} connection${n === 1 ? '' : 's'}`;

export function closedVerdict(m) {
  if (m.ratio === undefined) return `${conns(m.connections)}: no round where both scalectl and autocannon succeeded -> MISSES`;
  const f = (v) => (v === undefined ? '-' : int(v));
  const cpu = CONTENDERS.map((t) => m[t].cpuMsPer1k?.toFixed(1) ?? '-').join(' / ');
  return `${conns(m.connections)}: scalectl ${f(m.scalectl.rps)}, undici ${f(m.undici.rps)}, autocannon ${f(m.autocannon.rps)} req/s; ` +
    `ratio ${m.ratio.toFixed(3)}${m.undiciRatio === undefined ? '' : ` (undici ${m.undiciRatio.toFixed(3)})`} over ${m.rounds} round(s); ` +
    `CPU ms per 1k req s/u/a ${cpu} -> ${m.ratio >= CLOSED_GOAL.meets ? 'meets' : 'MISSES'} the goal ratio >= ${CLOSED_GOAL.meets.toFixed(1)}` +
    ` (aim ${CLOSED_GOAL.aim}: ${m.ratio >= CLOSED_GOAL.aim ? 'reached' : 'not reached'})`;
}

/**
 * Open model: one run at `rate` arrivals/s for `durationSec`. `started` counts
 * every arrival the executor started (it still starts overdue ones after the
 * phase); against the schedule it shows missing arrivals, not late ones. The
 * engine files an arrival under the second it was due, not the one it started
 * in, so the per-second series cannot show lateness either: that is the
 * schedule lag (how late arrivals started), worst second's p99.
 */
export function openRow({ workers, rate, durationSec, result, exitCode, cpu }) {
  const it = result.totals.iterations;
  const scheduled = Math.ceil(rate * durationSec);
  // Worst second's p99 schedule lag; generator.scheduleLagP99Ms is the same figure, for builds without per-second generator samples.
  const perSecond = result.timeseries.map((p) => p.generator?.scheduleLagP99Ms).filter((v) => typeof v === 'number');
  const g = result.generator;
  return {
    workers,
    rate,
    durationSec,
    scheduled,
    offered: it.offered,
    started: it.started,
    dropped: it.dropped,
    achievedRate: it.started / durationSec,
    errorPct: ((it.started - scheduled) / scheduled) * 100,
    scheduleLagP99Ms: perSecond.length ? Math.max(...perSecond) : g.scheduleLagP99Ms,
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

/** Open-model goals: arrivals started within this many percent of the schedule, and no drops. */
export const OPEN_MAX_ERROR_PCT = 0.5;
/**
 * ... and none late by more than this, ms (the worst second's p99 schedule
 * lag): SATURATION.scheduleLagMs of src/analyzers/generator-health.ts, the
 * lag past which scalectl itself calls a second generator-bound.
 */
// Read from the build (npm run bench builds first); before a build, `--help` and option errors still work,
// and a verdict says what is missing instead of crashing at import.
const health = await import('../dist/analyzers/generator-health.js').catch(() => undefined);
export const OPEN_MAX_SCHEDULE_LAG_MS = health?.SATURATION.scheduleLagMs;
/** Up to this rate the generator must also not call itself saturated. */
export const OPEN_UNSATURATED_UP_TO = 5000;

/** The open-model checks of one run: [{ check, ok, detail }] (ok undefined: not required at this rate). */
export function openVerdicts(row) {
  return [
    { check: `arrivals started within ${OPEN_MAX_ERROR_PCT}% of the schedule`, ok: Math.abs(row.errorPct) <= OPEN_MAX_ERROR_PCT,
      detail: `${int(row.started)} of ${int(row.scheduled)}, ${pct(row.errorPct)}` },
    { check: `arrivals on time: worst second's p99 schedule lag <= ${OPEN_MAX_SCHEDULE_LAG_MS ?? '? (no build: run npm run build)'} ms`, ok: OPEN_MAX_SCHEDULE_LAG_MS !== undefined && row.scheduleLagP99Ms <= OPEN_MAX_SCHEDULE_LAG_MS,
      detail: `${row.scheduleLagP99Ms} ms` },
    { check: 'no drops', ok: row.dropped === 0, detail: `${int(row.dropped)} dropped` },
    { check: 'generator not saturated', ok: row.rate <= OPEN_UNSATURATED_UP_TO ? !row.saturated : undefined,
      detail: `generator.saturated ${row.saturated}${row.rate > OPEN_UNSATURATED_UP_TO ? `, required only up to ${int(OPEN_UNSATURATED_UP_TO)}/s` : ''}` },
  ];
}

const word = (ok) => (ok === undefined ? 'n/a' : ok ? 'meets' : 'MISSES');

/** One line per check of each open-model run. */
export function openVerdictLines(rows) {
  return rows.flatMap((r) => (r.failed ? [`${int(r.rate)}/s --workers ${r.workers}: FAILED: ${r.failed}`]
    : openVerdicts(r).map((v) => `${int(r.rate)}/s --workers ${r.workers}: ${v.check}: ${word(v.ok)} (${v.detail})`)));
}

/** The table's goal column: every required check. */
function openGoal(r) {
  return openVerdicts(r).every((v) => v.ok !== false) ? 'meets' : 'MISSES';
}

const int = (v) => Math.round(v).toLocaleString('en-US');
const pct = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`;

export function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

const share = (c, k) => (c?.[k] === undefined ? '?' : Math.round(c[k]));
const fail = (n, msg) => [...Array(n - 1).fill(''), `FAILED: ${msg}`];

const each = (r, f) => CONTENDERS.map((t) => {
  const run = r.runs[t];
  if (!run) return '-';
  return run.failed ? 'FAILED' : f(run);
}).join('/');

export function closedTable(rows) {
  return table(
    ['conns', 'round', 'scalectl req/s', 'undici req/s', 'autocannon req/s', 'ratio s/a', 'ratio u/a', 'CPU ms per 1k req s/u/a', 'p99 ms s/u/a',
      'errors s/u/a', 'target CPU % s/u/a', 'foreign CPU % s/u/a', 'lean % s/u', 'saturated s/u', 'exit s/u'],
    rows.map((r) => {
      const rps = (t) => (!r.runs[t] ? '-' : r.runs[t].failed ? 'FAILED' : int(r.runs[t].rps));
      const two = (f) => ['scalectl', 'undici'].map((t) => (!r.runs[t] ? '-' : r.runs[t].failed ? 'FAILED' : f(r.runs[t]))).join('/');
      return [r.connections, r.round, rps('scalectl'), rps('undici'), rps('autocannon'), r.ratio?.toFixed(3) ?? '-', r.undiciRatio?.toFixed(3) ?? '-',
        each(r, (x) => x.cpuMsPer1k?.toFixed(1) ?? '?'), each(r, (x) => x.p99Ms.toFixed(1)), each(r, (x) => x.errors),
        each(r, (x) => share(x.cpu, 'targetPct')), each(r, (x) => share(x.cpu, 'foreignPct')),
        two((x) => (x.leanPct === undefined ? '?' : Math.round(x.leanPct))), two((x) => (x.saturated ? 'yes' : 'no')), two((x) => x.exitCode)];
    }),
  );
}

/** Failures of the closed model, one line each (the table only says FAILED). */
export function closedFailures(rows) {
  return rows.flatMap((r) => CONTENDERS.filter((t) => r.runs[t]?.failed).map((t) => `${conns(r.connections)}, round ${r.round}, ${t}: ${r.runs[t].failed}`));
}

export function openTable(rows) {
  return table(
    ['rate/s', 'workers', 'scheduled', 'started', 'dropped', 'achieved/s', 'error', 'sched lag p99 ms (worst s)', 'ELU max',
      'CPU %', 'target CPU %', 'foreign CPU %', 'req errors', 'p99 ms', 'saturated', 'goal'],
    rows.map((r) => [int(r.rate), r.workers, ...(r.failed ? fail(14, r.failed) : [int(r.scheduled), int(r.started), int(r.dropped), int(r.achievedRate), pct(r.errorPct),
      r.scheduleLagP99Ms, r.eluMax, r.cpuMeanPct, share(r.cpu, 'targetPct'), share(r.cpu, 'foreignPct'),
      r.requestErrors, r.latencyP99Ms, r.saturated ? 'yes' : 'no',
      `${openGoal(r)}${r.exitCode ? ` (exit ${r.exitCode})` : ''}`])]),
  );
}
