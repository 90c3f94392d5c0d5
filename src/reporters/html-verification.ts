import type { CapacityResult } from '../capacity/capacity-result.js';
import { VERIFY_WINDOW_SEC, type Verification } from '../capacity/verification.js';
import { chartDiv, esc, withSummaries, type ChartSpec } from './html.js';

/** A shaded interval of the time charts (drawn as the run report draws its phases). */
interface Band {
  name: string;
  startSec: number;
  durationSec: number;
}

export interface VerificationHtml {
  html: string;
  charts: Record<string, ChartSpec>;
  /** The observed breaches, shaded on the time charts. */
  bands: Band[];
}

const secs = (v: number | null): string => (v === null ? '–' : `${Math.round(v * 10) / 10}`);

/** Web replicas predicted and observed, and the replay's p99 against the seconds: the one picture of the verification. */
function replicasChart(r: CapacityResult, v: Verification): ChartSpec {
  const predicted = new Map((r.plan.surge?.seconds ?? []).map((s) => [s.t, s]));
  const roles = [...new Set(v.timeline.flatMap((p) => Object.keys(p.replicas ?? {})))].sort();
  const x = v.timeline.map((p) => p.t);
  const series: ChartSpec['series'] = [
    { label: 'web ready (predicted)', values: x.map((t) => predicted.get(t)?.web.ready ?? null), style: 'steps' },
    ...roles.map((role) => ({ label: `${role} ready (observed)`, values: v.timeline.map((p) => p.replicas?.[role] ?? null), style: 'steps' as const })),
    { label: 'p99 (ms)', values: v.timeline.map((p) => p.p99), axis: 'right' },
  ];
  if (r.plan.surge?.settings.consumer) series.splice(1, 0, { label: 'consumers ready (predicted)', values: x.map((t) => predicted.get(t)?.consumer?.ready ?? null), style: 'steps' });
  return withSummaries({ title: 'Replicas predicted and observed, and the p99 of each second (breaches shaded)', yLabel: 'replicas', integerY: true, y2Label: 'p99, ms', x, series });
}

/**
 * `capacity --verify` in the capacity report: the verdict in a sentence, the
 * scaling times predicted and observed, the breaches, the queue, and a chart
 * of the replicas (predicted, observed) with each second's p99.
 */
export function verificationHtml(r: CapacityResult): VerificationHtml {
  const v = r.verification;
  if (!v) return { html: '', charts: {}, bands: [] };
  const cls = v.verdict === 'held' ? 'pass' : v.verdict === 'broke' ? 'fail' : 'warn';
  const verdict = `<p class="${cls}">${esc(v.verdict.charAt(0).toUpperCase() + v.verdict.slice(1))}: ${esc(v.summary)}.</p>`;
  const rows = v.scaling.map((s) => `<tr><td>${esc(s.role)} → ${s.replicas}</td><td class="num">${secs(s.predictedSec)}</td><td class="num">${secs(s.observedSec)}</td><td class="num">${s.differenceSec === null ? '–' : `${s.differenceSec >= 0 ? '+' : ''}${secs(s.differenceSec)}`}</td></tr>`);
  const scaling = rows.length
    ? `<table><thead><tr><th>scale-up</th><th class="num">predicted ready (s)</th><th class="num">observed ready (s)</th><th class="num">difference (s)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    : '<p>No scale-up was predicted or observed.</p>';
  const items = [
    ...v.breaches.map((b) => `breach: ${b.expression} from ${b.fromSec} s to ${b.toSec} s (worst ${VERIFY_WINDOW_SEC} s window ${Math.round(b.worstShare * 10_000) / 100}% past the limit, ${Math.round(b.allowed * 10_000) / 100}% allowed)`),
    ...v.doubtful.map((b) => `not settled: ${b.expression} from ${b.fromSec} s to ${b.toSec} s (worst ${VERIFY_WINDOW_SEC} s window ${Math.round(b.worstShare * 10_000) / 100}% past the limit, ${Math.round(b.allowed * 10_000) / 100}% allowed; too few samples to say at 95%)`),
    `breach predicted and seen: ${v.breachAgreement}`,
    ...(v.scaleDowns.length ? [`scale-downs: ${v.scaleDowns.map((d) => `${d.role} ${d.from} → ${d.to} at ${secs(d.t)} s`).join(', ')}`] : []),
    ...(v.queue ? [`queue: predicted largest backlog ${v.queue.predictedMaxBacklog ?? '–'}, observed largest depth ${v.queue.observedMaxDepth ?? '–'}, drained ${v.queue.observedDrainSec === null ? '(unknown)' : `${v.queue.observedDrainSec} s after the load`}`] : []),
    ...v.slos.map((s) => `over the whole replay, ${s.expression}: ${s.ok ? 'ok' : 'failed'}`),
    ...v.warnings,
  ];
  const list = items.length ? `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : '';
  const method = `<p>${esc(`The scenario's phases were replayed against the target running the recommended autoscaler. Each SLO on the whole run (a latency percentile or the error rate) is judged over every ${VERIFY_WINDOW_SEC} s window of the replay, like a capacity step (95% confidence, split across the windows); a window breaks it only when its whole interval is past the allowance.`)}</p>`;
  const charts: Record<string, ChartSpec> = v.timeline.length ? { 'verify-replicas': replicasChart(r, v) } : {};
  const bands = v.breaches.map((b) => ({ name: `breach: ${b.expression}`, startSec: b.fromSec, durationSec: b.toSec - b.fromSec }));
  return { html: verdict + method + Object.entries(charts).map(([id, spec]) => chartDiv(id, spec)).join('') + scaling + list, charts, bands };
}
