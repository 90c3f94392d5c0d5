import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';
import type { ReplicaCountResult } from '../capacity/capacity-plan.js';
import { autoscalerTimings, capacityVerdict, kneeConfidenceText } from './capacity-verdict.js';
import type { CapacityResult } from '../capacity/capacity-result.js';
import { VERIFY_WINDOW_SEC, type Verification } from '../capacity/verification.js';
import { formatDuration } from '../shared/duration.js';
import { printable } from '../shared/printable.js';

const table = (head: string[]): Table.Table => new Table({ head, style: { head: [], border: [], compact: true } });
const num = (v: number | null | undefined, d = 1): string => (v === null || v === undefined ? '–' : String(Math.round(v * 10 ** d) / 10 ** d));
const sig = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 0.01 ? v.toPrecision(4) : v.toExponential(3));

const NOTES: Partial<Record<ReplicaCountResult['outcome'], string>> = {
  maxRate: 'passed --max-rate', interrupted: 'interrupted', nothingPassed: 'nothing passed', loadIndependent: 'stalls: nothing passed', stepLimit: 'step budget spent',
};

function kneeTable(counts: readonly ReplicaCountResult[]): string {
  const t = table(['replicas', 'knee it/s (bracket)', 'confidence', 'req/s', 'p99', 'CPU/replica', 'cache hit', 'queue trend', 'drain', 'steps', 'time', 'note']);
  for (const c of counts) {
    const k = c.kneeStep === null ? undefined : c.steps[c.kneeStep];
    const tel = c.atKnee;
    t.push([
      c.replicas,
      c.knee === null ? '–' : `${num(c.knee)}${c.firstFailure !== null ? ` (< ${num(c.firstFailure)})` : ''}`,
      kneeConfidenceText(c),
      num(c.kneeRps),
      k ? formatDuration(k.latencyMs.p99) : '–',
      tel?.cpuPerReplicaPercent !== null && tel?.cpuPerReplicaPercent !== undefined ? `${num(tel.cpuPerReplicaPercent)}%` : '–',
      tel?.cacheHitRatio !== null && tel?.cacheHitRatio !== undefined ? `${num(tel.cacheHitRatio * 100)}%` : '–',
      tel?.queueDepthSlope !== null && tel?.queueDepthSlope !== undefined ? `${tel.queueDepthSlope >= 0 ? '+' : ''}${num(tel.queueDepthSlope, 2)}/s` : '–',
      tel?.drainTimeSec !== null && tel?.drainTimeSec !== undefined ? `${num(tel.drainTimeSec)} s` : '–',
      c.steps.length,
      c.elapsedSec === undefined ? '–' : formatDuration(c.elapsedSec * 1000),
      [c.generatorLimited ? 'generator-bound: lower bound' : NOTES[c.outcome] ?? '', c.remeasured ? 'measured again' : ''].filter(Boolean).join(', '),
    ]);
  }
  return t.toString();
}

const LIST_SOURCES: Record<string, string> = {
  flag: '--queue-prefix', target: "named by the target's metrics", config: "the reference stack's keyPrefix", unconfirmed: 'UNCONFIRMED: BullMQ\'s default',
};

/** The surge prediction: its sentence (with the advice when a replica is expected past its knee), the timings it used, its notes. */
function surgeLines(r: CapacityResult, c: ChalkInstance): string[] {
  const p = r.plan.surge;
  if (!p) return [];
  const paint = !p.applies ? c.dim : p.breaches.length ? c.yellow : c.green;
  const out = [c.bold('\nthe surge, predicted second by second (the HPA and KEDA rules the reference stack runs)'), paint(`  ${printable(p.sentence)}`)];
  if (p.applies) out.push(c.dim(`    ${autoscalerTimings(p.settings.autoscaler, p.settings.consumer !== null)}`));
  for (const note of p.notes) out.push(c.dim(`    ${printable(note)}`));
  return out;
}

/** The end of `scalectl capacity`: knees per replica count, the model, the recommendations and their arithmetic. */
export function renderCapacitySummary(r: CapacityResult, c: ChalkInstance): string {
  const out: string[] = [];
  out.push(c.bold(`\n${printable(r.scenario.name)}: capacity${r.aborted ? c.yellow(' (interrupted: partial)') : r.error ? c.red(' (stopped by an error: partial)') : ''}`));
  out.push('knee = the highest rate (flow iterations per second) believed to pass: every SLO and threshold held (tail criteria at 95% confidence), >= 95% of it was achieved and nothing was dropped; the true knee lies below the first failure in brackets');
  out.push(kneeTable(r.replicaCounts));
  const { plan } = r;
  if (plan.model) {
    const m = plan.model;
    const pm = (k: 'sigma' | 'kappa' | 'lambda'): string => `${sig(m[k])}${m.stdErrors[k] !== null ? ` ± ${sig(m.stdErrors[k])}` : ''}`;
    out.push(c.bold(`\nscalability model (${m.kind === 'usl' ? 'Universal Scalability Law' : m.kind === 'amdahl' ? "Amdahl's law, kappa = 0" : 'linear'})`));
    out.push(`  sigma (contention) ${pm('sigma')}, kappa (coherency) ${pm('kappa')}, lambda (one replica) ${pm('lambda')} it/s` + (m.kind === 'usl' ? `, R² ${m.r2.toFixed(4)}` : ''));
    out.push(m.peakReplicas === null && m.sigma >= 0.999 ? `  flat: more replicas add no throughput (${num(m.lambda)} it/s at any count)`
      : m.peakReplicas === null ? `  no peak: throughput keeps rising with replicas${m.peakThroughput !== null ? ` toward ${num(m.peakThroughput)} it/s` : ''}`
      : `  peak: ${num(m.peakThroughput)} it/s at N* = ${num(m.peakReplicas)} replicas; more replicas lower throughput`);
  }
  const v = capacityVerdict(r);
  const paint = v.cls === 'pass' ? c.green : v.cls === 'fail' ? c.red : c.yellow;
  out.push(c.bold('\nverdict'));
  out.push(`  peak ${num(r.settings.peakRate)} it/s (${r.settings.peakSource === 'peak-rps' ? `--peak-rps ${r.settings.peakRps}` : r.settings.peakSource === 'surge' ? `--surge ${r.settings.surge}x × base ${num(r.settings.baseRate)} it/s` : "the scenario's peak"}), headroom ${num(r.settings.headroom * 100, 0)}%`);
  out.push(paint(`  ${v.headline}`));
  for (const line of v.lines) out.push(`    ${printable(line)}`);
  const rp = plan.replicas;
  if (rp?.feasible && plan.verdict !== 'recommended') out.push(c.dim('    the model alone (not a recommendation):'));
  for (const line of rp?.arithmetic ?? []) out.push(c.dim(`    ${line}`));
  if (plan.hpa) {
    const h = plan.hpa;
    out.push(c.bold('\nHPA (CPU)'));
    out.push(h.targetUtilizationPercent !== null ? `  CPU request ${h.cpuRequestMillicores}m, target averageUtilization ${h.targetUtilizationPercent}%, min ${h.minReplicas}, max ${h.maxReplicas}`
      : h.feasible === false ? '  no CPU target can react in time' : '  no CPU target: CPU was not measured');
    if (h.advice && h.feasible !== false) out.push(`  ${h.advice}`);
    for (const line of h.arithmetic) out.push(c.dim(`    ${line}`));
  }
  if (plan.keda) {
    const k = plan.keda;
    out.push(c.bold('\nqueue consumers (KEDA)'));
    out.push(k.listLengthPerReplica !== null
      ? `  listLength ${k.listLengthPerReplica} jobs per replica on ${printable(r.settings.listName)} (${LIST_SOURCES[r.settings.listNameSource] ?? 'source unknown'}), ${k.replicas} consumer replica(s) at the peak (time per job ${formatDuration((k.secondsPerJob ?? 0) * 1000)}, ${k.source})`
      : '  not sized: the time per job is unknown');
    const events = r.settings.eventQueues ?? [];
    if (k.listLengthPerReplica !== null && events.length) out.push(`  and ${k.listLengthPerReplica} messages per replica on each RabbitMQ event queue: ${events.map(printable).join(', ')} (named by the target)`);
    const lists = r.settings.eventWaitLists ?? [];
    if (k.listLengthPerReplica !== null && lists.length) out.push(`  and ${k.listLengthPerReplica} jobs per replica on each event queue's list: ${lists.map(printable).join(', ')} (named by the target)`);
    for (const line of k.arithmetic) out.push(c.dim(`    ${line}`));
  }
  out.push(...surgeLines(r, c));
  if (r.warnings.length) {
    out.push(c.bold('\nwarnings'));
    for (const w of r.warnings) out.push(c.yellow(`  - ${printable(w)}`));
  }
  return out.join('\n') + '\n';
}

const secs = (v: number | null): string => (v === null ? '–' : `${num(v)} s`);

/** `capacity --verify`: the replay against the autoscaled target, against the prediction. */
export function renderVerification(v: Verification, c: ChalkInstance): string {
  const out = [c.bold('\nverification: the surge replayed against the recommended autoscaler')];
  const paint = v.verdict === 'held' ? c.green : v.verdict === 'broke' ? c.red : c.yellow;
  out.push(paint(`  ${v.verdict.toUpperCase()}: ${printable(v.summary)}`));
  if (v.scaling.length) {
    const t = table(['scale-up', 'predicted ready', 'observed ready', 'difference']);
    for (const s of v.scaling) t.push([`${printable(s.role)} → ${s.replicas}`, secs(s.predictedSec), secs(s.observedSec), s.differenceSec === null ? '–' : `${s.differenceSec >= 0 ? '+' : ''}${num(s.differenceSec)} s`]);
    out.push(t.toString());
  }
  if (v.scaleDowns.length) out.push(`  scale-downs: ${v.scaleDowns.map((d) => `${printable(d.role)} ${d.from} → ${d.to} at ${num(d.t)} s`).join(', ')}`);
  for (const b of v.breaches) {
    out.push(c.red(`  breach: ${printable(b.expression)} from ${b.fromSec} s to ${b.toSec} s (worst ${VERIFY_WINDOW_SEC} s window ${num(b.worstShare * 100, 2)}% past the limit, ${num(b.allowed * 100, 2)}% allowed)`));
  }
  for (const b of v.doubtful) {
    out.push(c.yellow(`  not settled: ${printable(b.expression)} from ${b.fromSec} s to ${b.toSec} s (worst ${VERIFY_WINDOW_SEC} s window ${num(b.worstShare * 100, 2)}% past the limit, ${num(b.allowed * 100, 2)}% allowed, too few samples to say at 95%)`));
  }
  if (v.predictedBreaches.length) out.push(c.dim(`  predicted: ${v.predictedBreaches.map((b) => `${b.role === 'web' ? 'web replicas past their knee' : 'orders waiting past the acceptable wait'} from ${b.fromSec} s to ${b.toSec} s`).join(', ')}`));
  out.push(c.dim(`  breach predicted and seen: ${v.breachAgreement}`));
  if (v.queue) {
    out.push(`  queue: predicted largest backlog ${v.queue.predictedMaxBacklog ?? '–'}, observed largest depth ${v.queue.observedMaxDepth ?? '–'}, ` +
      `drained ${v.queue.observedDrainSec === null ? '(unknown)' : `${num(v.queue.observedDrainSec)} s after the load`}`);
  }
  if (v.slos.length) out.push(`  over the whole replay: ${v.slos.map((s) => `${printable(s.expression)} ${s.ok ? 'ok' : c.red('failed')}`).join(', ')}`);
  for (const w of v.warnings) out.push(c.yellow(`  - ${printable(w)}`));
  return out.join('\n') + '\n';
}
