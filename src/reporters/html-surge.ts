import type { CapacityResult } from '../capacity/capacity-result.js';
import { autoscalerTimings } from './capacity-verdict.js';
import { chartDiv, esc, withSummaries, type ChartSpec } from './html.js';

/** A shaded interval of the time charts (drawn as the run report draws its phases). */
interface Band {
  name: string;
  startSec: number;
  durationSec: number;
}

export interface SurgeHtml {
  /** The section's body. */
  html: string;
  charts: Record<string, ChartSpec>;
  /** The breaches, shaded on the time charts. */
  bands: Band[];
}

type Prediction = NonNullable<CapacityResult['plan']['surge']>;

function replicaChart(p: Prediction): ChartSpec {
  const s = p.seconds;
  const series: ChartSpec['series'] = [
    { label: 'web ready', values: s.map((x) => x.web.ready) },
    { label: 'web starting', values: s.map((x) => x.web.starting) },
    { label: 'web desired', values: s.map((x) => x.web.desired) },
  ];
  if (p.settings.consumer) {
    series.push(
      { label: 'consumers ready', values: s.map((x) => x.consumer?.ready ?? null) },
      { label: 'consumers starting', values: s.map((x) => x.consumer?.starting ?? null) },
    );
  }
  return withSummaries({ title: 'Replicas during the surge (predicted; breaches shaded)', yLabel: 'replicas', x: s.map((x) => x.t), series });
}

function loadChart(p: Prediction): ChartSpec {
  const s = p.seconds;
  return withSummaries({
    title: 'Load per ready replica against its knee (predicted)', yLabel: 'iterations per second per replica', x: s.map((x) => x.t),
    series: [
      { label: 'load per replica', values: s.map((x) => x.loadPerReplica) },
      { label: 'knee per replica', values: s.map((x) => x.kneePerReplica) },
      { label: 'offered rate', values: s.map((x) => x.rate) },
    ],
  });
}

function backlogChart(p: Prediction): ChartSpec {
  const s = p.seconds;
  const c = p.settings.consumer!;
  return withSummaries({
    title: 'Queue backlog (predicted)', yLabel: 'jobs', x: s.map((x) => x.t),
    series: [
      { label: 'backlog', values: s.map((x) => x.consumer?.backlog ?? null) },
      // The backlog whose wait is the acceptable one at the ready consumers.
      { label: 'acceptable backlog', values: s.map((x) => (x.consumer ? (c.acceptableWaitSec / c.secondsPerJob) * x.consumer.ready : null)) },
    ],
  });
}

const eventRow = (e: Prediction['scaleEvents'][number]): string =>
  `<tr><td>${esc(e.role)}</td><td class="num">${e.t}</td><td class="num">${e.from} → ${e.to}</td><td class="num">${e.to > e.from ? e.readyAt : '–'}</td></tr>`;

/**
 * The surge prediction for the capacity report: the sentence, the timings
 * used, the scaling events, and charts of replicas, load per replica against
 * the knee and (with consumers) the backlog, breach seconds shaded.
 */
export function surgeHtml(r: CapacityResult): SurgeHtml {
  const p = r.plan.surge;
  if (!p) return { html: '<p>No prediction: it needs a recommendation with an HPA plan.</p>', charts: {}, bands: [] };
  const intro = `<p class="${p.breaches.length ? 'warn' : p.applies ? 'pass' : ''}">${esc(p.sentence.charAt(0).toUpperCase() + p.sentence.slice(1))}.</p>`;
  const notes = p.notes.length ? `<ul>${p.notes.map((n) => `<li>${esc(String(n))}</li>`).join('')}</ul>` : '';
  if (!p.applies) return { html: intro + notes, charts: {}, bands: [] };
  const charts: Record<string, ChartSpec> = { 'surge-replicas': replicaChart(p), 'surge-load': loadChart(p) };
  if (p.settings.consumer) charts['surge-backlog'] = backlogChart(p);
  const bands = p.breaches.map((b) => ({ name: b.role === 'web' ? 'past the knee' : 'queue wait', startSec: b.fromSec, durationSec: b.toSec - b.fromSec }));
  const timings = `<p>${esc(`Simulated ${p.profile === 'scenario' ? "over the scenario's phases" : "over a surge built from the plan's rates"} with ${autoscalerTimings(p.settings.autoscaler, p.settings.consumer !== null)}. ` +
    'Load is shared equally by ready replicas; CPU is proportional to load (the knee\'s CPU at the knee, one core at most); a new replica takes load after the start-up.')}</p>`;
  const events = p.scaleEvents.length
    ? `<table><thead><tr><th>role</th><th class="num">decided at (s)</th><th class="num">replicas</th><th class="num">ready at (s)</th></tr></thead><tbody>${p.scaleEvents.map(eventRow).join('')}</tbody></table>`
    : '<p>No scaling event.</p>';
  const html = intro + notes + timings + Object.entries(charts).map(([id, spec]) => chartDiv(id, spec)).join('') + events;
  return { html, charts, bands };
}
