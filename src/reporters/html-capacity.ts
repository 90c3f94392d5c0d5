import type { CapacityResult } from '../capacity/capacity-result.js';
import { uslThroughput } from '../analyzers/usl.js';
import { formatDuration } from '../shared/duration.js';
import { chartDiv, esc, htmlPage, table, withSummaries, type ChartSpec } from './html.js';
import { capacityVerdict, kneeConfidenceText } from './capacity-verdict.js';
import { k8sNamesOf, renderK8s } from './k8s.js';
import { surgeHtml } from './html-surge.js';
import { verificationHtml } from './html-verification.js';

const num = (v: number | null | undefined, d = 1): string => (v === null || v === undefined ? '–' : String(Math.round(v * 10 ** d) / 10 ** d));
const sig = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 0.01 ? v.toPrecision(4) : v.toExponential(3));

type Model = NonNullable<CapacityResult['plan']['model']>;

/**
 * The model's throughput with a ±1 standard error band (about 68%): the
 * parameters' covariance Σ propagated through X(n) by its gradient g, so the
 * variance is gᵀΣg (the delta method). No band without a covariance (fewer
 * than 4 replica counts leave no degrees of freedom).
 */
function curve(m: Model, n: number): { x: number; lo: number | null; hi: number | null } {
  const x = uslThroughput(m, n);
  const cov = m.covariance;
  if (!cov) return { x, lo: null, hi: null };
  const d = 1 + m.sigma * (n - 1) + m.kappa * n * (n - 1);
  const g = [(-m.lambda * n * (n - 1)) / (d * d), (-m.lambda * n * n * (n - 1)) / (d * d), n / d];
  let v = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += g[i]! * cov[i]![j]! * g[j]!;
  const se = Math.sqrt(Math.max(0, v));
  return { x, lo: Math.max(0, x - se), hi: x + se };
}

function modelChart(r: CapacityResult): ChartSpec | undefined {
  const m = r.plan.model;
  if (!m) return undefined;
  const top = Math.max(m.maxMeasuredN * 2, r.plan.replicas?.replicas ?? 0, ...r.replicaCounts.map((c) => c.replicas), 4);
  const xs: number[] = [];
  for (let n = 1; n <= top; n += top > 40 ? Math.ceil(top / 40) : 1) xs.push(n);
  const measured = new Map(m.points.map((p) => [p.replicas, p.throughput]));
  for (const n of measured.keys()) if (!xs.includes(n)) xs.push(n);
  xs.sort((a, b) => a - b);
  const c = xs.map((n) => curve(m, n));
  const best = c.reduce((b, p, i) => (p.x > c[b]!.x ? i : b), 0);
  const series: ChartSpec['series'] = [
    { label: 'measured knee', values: xs.map((n) => measured.get(n) ?? null), style: 'points',
      summary: [...measured].sort(([a], [b]) => a - b).map(([n, v]) => `${n}: ${Math.round(v)}`).join(', ') },
    { label: `model (${m.kind})`, values: c.map((p) => p.x), summary: `highest ${Math.round(c[best]!.x)} at ${xs[best]} replicas` },
  ];
  if (c.some((p) => p.lo !== null)) {
    series.push({ label: 'model − 1 s.e.', values: c.map((p) => p.lo), style: 'band' }, { label: 'model + 1 s.e.', values: c.map((p) => p.hi), style: 'band' });
  }
  series.push({ label: 'peak to serve (with headroom)', values: xs.map(() => r.plan.replicas?.requiredRate ?? r.settings.peakRate) });
  return withSummaries({ title: 'Throughput at the knee by replica count', xLabel: 'replicas', xName: 'replicas', integerX: true, yLabel: 'iterations per second', x: xs, series });
}

function kneesSection(r: CapacityResult): string {
  return table(['replicas', 'knee it/s', 'confidence', 'req/s', 'p99 at the knee', 'CPU per replica', 'cache hit', 'queue trend', 'drain', 'steps', 'time', 'outcome'], r.replicaCounts.map((c) => {
    const k = c.kneeStep === null ? undefined : c.steps[c.kneeStep];
    const t = c.atKnee;
    return [
      String(c.replicas), `${num(c.knee)}${c.firstFailure !== null ? ` (fails at ${num(c.firstFailure)})` : ''}`,
      kneeConfidenceText(c), num(c.kneeRps),
      k ? formatDuration(k.latencyMs.p99) : '–',
      t?.cpuPerReplicaPercent != null ? `${num(t.cpuPerReplicaPercent)}% of a core` : '–',
      t?.cacheHitRatio != null ? `${num(t.cacheHitRatio * 100)}%` : '–',
      t?.queueDepthSlope != null ? `${t.queueDepthSlope >= 0 ? '+' : ''}${num(t.queueDepthSlope, 2)} jobs/s` : '–',
      t?.drainTimeSec != null ? `${num(t.drainTimeSec)} s` : '–',
      String(c.steps.length), c.elapsedSec === undefined ? '–' : formatDuration(c.elapsedSec * 1000),
      [c.generatorLimited ? 'lower bound (generator-bound)' : String(c.outcome), c.remeasured ? 'measured again' : '', c.diagnosis ?? ''].filter(Boolean).join('; '),
    ].map((cell) => esc(String(cell)));
  }));
}

function stepsSection(r: CapacityResult): string {
  return r.replicaCounts.map((c) => `<details><summary>${esc(String(c.replicas))} replica${c.replicas > 1 ? 's' : ''}: ${c.steps.length} steps</summary>${table(['rate it/s', 'why', 'verdict', 'measured', 'req/s', 'p95', 'p99', 'achieved'], c.steps.map((s) => [
    esc(num(s.rate, 2)), esc(String(s.purpose ?? '')), s.verdict === 'undecided' ? `<span class="warn">undecided, leaning ${s.passed ? 'pass' : 'fail'}</span>: ${esc(s.reasons.map(String).join('; '))}`
      : s.passed ? '<span class="pass">pass</span>' : `<span class="fail">fail</span>: ${esc(s.reasons.map(String).join('; '))}`,
    ...[s.measuredSec === undefined ? '–' : `${num(s.measuredSec)} s`, num(s.rps), formatDuration(s.latencyMs.p95), formatDuration(s.latencyMs.p99), `${num(s.achievedRatio * 100)}%`].map(esc),
  ]))}</details>`).join('\n');
}

function modelSection(r: CapacityResult): string {
  const m = r.plan.model;
  if (!m) return '<p>Nothing was measured to model.</p>';
  const row = (name: string, k: 'sigma' | 'kappa' | 'lambda'): string[] => {
    const ci = m.ci95[k];
    return [name, sig(m[k]), m.stdErrors[k] === null ? '–' : sig(m.stdErrors[k]), ci ? `${sig(ci[0])} to ${sig(ci[1])}` : '–'];
  };
  const kind = m.kind === 'usl' ? 'Universal Scalability Law' : m.kind === 'amdahl' ? "Amdahl's law (kappa taken as 0: two replica counts)" : 'linear scaling (one replica count)';
  const peak = m.peakReplicas === null ? (m.sigma >= 0.999 ? 'Flat: more replicas add no throughput.' : 'No peak: throughput keeps rising with replicas.')
    : `Peak: ${num(m.peakThroughput)} it/s at N* = ${num(m.peakReplicas)} replicas; beyond it, more replicas lower throughput.`;
  const band = m.covariance ? 'The shaded lines are ±1 standard error of the curve (about 68%).' : 'No error band: it needs 4 or more replica counts.';
  return `<p>${esc(kind)}, X(N) = λN / (1 + σ(N − 1) + κN(N − 1))${m.kind === 'usl' ? `, R² ${Number(m.r2).toFixed(4)}` : ''}. ${esc(peak)} ${esc(band)}</p>` +
    table(['parameter', 'estimate', 'std error', '95% interval'], [row('σ, contention', 'sigma'), row('κ, coherency', 'kappa'), row('λ, one replica (it/s)', 'lambda')]);
}

const list = (lines: readonly string[]): string => (lines.length ? `<ol class="arithmetic">${lines.map((l) => `<li><code>${esc(String(l))}</code></li>`).join('')}</ol>` : '');

function recommendationSection(r: CapacityResult): { verdict: string; cls: string; body: string } {
  const p = r.plan.replicas;
  const source = r.settings.peakSource === 'peak-rps' ? `--peak-rps ${r.settings.peakRps}` : r.settings.peakSource === 'surge' ? `${r.settings.surge}× the base rate of ${num(r.settings.baseRate)} it/s` : "the scenario's peak";
  const intro = `<p>Peak to serve: ${num(r.settings.peakRate)} iterations per second (${esc(source)}), with ${num(r.settings.headroom * 100, 0)}% headroom.</p>`;
  const v = capacityVerdict(r);
  const why = v.lines.length ? `<ul>${v.lines.map((l) => `<li>${esc(String(l))}</li>`).join('')}</ul>` : '';
  const model = p?.feasible && v.cls !== 'pass' && r.plan.verdict !== 'recommended' ? '<p>What the model alone says (not a recommendation):</p>' : '';
  return { verdict: v.headline.charAt(0).toUpperCase() + v.headline.slice(1), cls: v.cls, body: `${intro}${why}${p ? model + list(p.arithmetic) : ''}` };
}

function autoscalerSection(r: CapacityResult): string {
  const { hpa, keda } = r.plan;
  const parts: string[] = [];
  if (hpa) {
    parts.push('<h3>HorizontalPodAutoscaler (CPU)</h3>', hpa.targetUtilizationPercent !== null
      ? `<p>${esc(`CPU request ${hpa.cpuRequestMillicores}m, target average utilization ${hpa.targetUtilizationPercent}%, min ${hpa.minReplicas}, max ${hpa.maxReplicas}.`)}</p>`
      : hpa.feasible === false ? `<p>No CPU target can react in time.${hpa.advice ? ` ${esc(String(hpa.advice))}` : ''}</p>` : '<p>No CPU was measured at the knee, so no CPU target.</p>', list(hpa.arithmetic));
  }
  if (keda) {
    parts.push('<h3>Queue consumers (KEDA)</h3>', keda.listLengthPerReplica !== null
      ? `<p>${esc(`listLength ${keda.listLengthPerReplica} jobs per replica, ${keda.replicas} consumer replica(s) at the peak (time per job ${formatDuration((keda.secondsPerJob ?? 0) * 1000)}, ${keda.source ?? ''}).`)}</p>`
      : '<p>Not sized: the time per job is unknown (give --job-time).</p>', list(keda.arithmetic));
    const events = r.settings.eventQueues ?? [];
    if (keda.listLengthPerReplica !== null && events.length) {
      parts.push(`<p>${esc(`And ${keda.listLengthPerReplica} messages per replica on each RabbitMQ event queue (a rabbitmq trigger each): ${events.join(', ')}.`)}</p>`);
    }
    const lists = r.settings.eventWaitLists ?? [];
    if (keda.listLengthPerReplica !== null && lists.length) {
      parts.push(`<p>${esc(`And ${keda.listLengthPerReplica} jobs per replica on each event queue's list (a redis trigger each): ${lists.join(', ')}.`)}</p>`);
    }
  }
  if (hpa && r.plan.verdict !== undefined && r.plan.verdict !== 'recommended') {
    parts.push('<p>No YAML: the plan is not a recommendation.</p>');
  } else if (hpa && !r.aborted && !r.error && r.settings.listName === undefined) {
    parts.push('<p>No YAML: this capacity.json predates the Deployment and queue names it needs; run scalectl capacity --emit-k8s again.</p>');
  } else if (hpa && !r.aborted && !r.error) {
    const files = renderK8s(hpa, keda ?? { listLengthPerReplica: null, replicas: null, warnings: [], arithmetic: [] }, k8sNamesOf(r.settings), r.plan.surge?.settings);
    for (const [name, text] of Object.entries(files)) parts.push(`<h3>${esc(name)}</h3><pre><code>${esc(text)}</code></pre>`);
  }
  return parts.join('\n') || '<p>No autoscaler settings: no feasible recommendation.</p>';
}

/**
 * The capacity report (`capacity --html`, `report capacity.json --html`):
 * the recommendation first, the knees per replica count, the fitted curve
 * with the measured points and its uncertainty, the model's parameters, the
 * HPA and KEDA settings with their arithmetic and YAML to copy, the surge
 * predicted second by second under them, every step,
 * and the assumptions and warnings in words.
 */
export function renderCapacityHtml(r: CapacityResult): string {
  const rec = recommendationSection(r);
  const chart = modelChart(r);
  const surge = surgeHtml(r);
  const verified = verificationHtml(r);
  const status = r.aborted ? '<p class="warn">Interrupted: partial measurements.</p>' : r.error ? `<p class="fail">Stopped by an error: ${esc(String(r.error.message))}</p>` : '';
  const body = `
<header>
<h1>${esc(r.scenario.name)}: capacity</h1>
<p class="sub">${esc(`scalectl capacity against ${r.target}, replicas ${r.settings.replicas.join(', ')}, ${r.startedAt}; each step ${r.settings.warmupSec} s warm-up + ${r.settings.steadySec} s measured`)}</p>
${r.host?.os ? `<p class="sub">${esc(`measured from ${r.host.hostname}: ${r.host.os}, ${r.host.cpu}, ${r.host.cores} cores, ${r.host.memoryGiB} GiB; Node ${r.host.node}, scalectl ${r.host.scalectl}`)}</p>` : ''}
</header>
<section id="verdict"><div class="verdict ${rec.cls}">${esc(rec.verdict)}</div>${status}</section>
<section id="recommendation"><h2>Recommendation</h2>${rec.body}</section>
<section id="knees"><h2>Knee per replica count</h2><p>The knee is the highest rate (flow iterations per second) believed to pass: every SLO and threshold held (latency percentiles and error rates at 95% confidence), at least 95% of the offered rate was achieved and no iteration was dropped. The true knee lies between it and the first failure.</p>${kneesSection(r)}</section>
<section id="model"><h2>Scalability model</h2>${chart ? chartDiv('model', chart) : ''}${modelSection(r)}</section>
<section id="autoscaler"><h2>Autoscaler settings</h2>${autoscalerSection(r)}</section>
<section id="surge"><h2>The surge, predicted</h2>${surge.html}</section>
${r.verification ? `<section id="verification"><h2>The surge, verified</h2>${verified.html}</section>` : ''}
<section id="warnings"><h2>Assumptions and warnings</h2>${r.warnings.length ? `<ul class="warnings">${r.warnings.map((w) => `<li>${esc(String(w))}</li>`).join('')}</ul>` : '<p>No warnings.</p>'}
<p>The model assumes the knees were measured where the service will run, with CPU proportional to load up to the knee; see docs/capacity.md for the method and its limits.</p></section>
<section id="steps"><h2>Every step</h2>${stepsSection(r)}</section>`;
  // The breaches are drawn as the run report draws its phases: shaded on every chart over time.
  return htmlPage(`${r.scenario.name}: scalectl capacity report`, body, { charts: { ...(chart ? { model: chart } : {}), ...surge.charts, ...verified.charts }, phases: [...surge.bands, ...verified.bands] });
}
