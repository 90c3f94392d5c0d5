import { readFile } from 'node:fs/promises';
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { CapacityResult } from '../capacity/capacity-result.js';
import { simulateSurge, type SurgeInput } from '../capacity/surge-simulation.js';
import { renderCapacitySummary } from './capacity-terminal.js';
import { renderCapacityHtml } from './html-capacity.js';

const fixture = async (): Promise<CapacityResult> => JSON.parse(await readFile(new URL('../../test/fixtures/capacity-result.json', import.meta.url), 'utf8')) as CapacityResult;

/** The breach case of surge-simulation.test.ts (80 it/s, then 160 it/s on 1 replica of knee 100), with consumers that keep up (32 jobs/s at most, 50/s each). */
const input: SurgeInput = {
  phases: [{ kind: 'open', durationSec: 60, fromRate: 80, toRate: 80 }, { kind: 'open', durationSec: 60, fromRate: 160, toRate: 160 }],
  profile: 'scenario',
  autoscaler: { syncSec: 15, tolerance: 0.1, scaleDownWindowSec: 300, scaleUpPods: 4, scaleUpPercent: 100, scaleUpPeriodSec: 15, podStartupSec: 30, pollingSec: 30, cooldownSec: 300, source: 'kubernetes defaults' },
  web: { minReplicas: 1, maxReplicas: 4, targetUtilization: 0.8, cpuAtKneeOverRequest: 1, utilizationCap: 2, cpuRequestMillicores: 500 },
  kneePerReplica: () => 100,
  consumer: { minReplicas: 1, maxReplicas: 3, listLength: 20, secondsPerJob: 0.02, jobsPerIteration: 0.2, acceptableWaitSec: 10 },
};

function embedded(html: string): { charts: Record<string, { x: number[]; series: { label: string; values: (number | null)[] }[] }>; phases: { name: string; startSec: number; durationSec: number }[] } {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]!) as ReturnType<typeof embedded>;
}

describe('the surge in the capacity reports', () => {
  it('HTML: the sentence, the timings, the events, and charts with the breach shaded', async () => {
    const r = await fixture();
    const surge = simulateSurge(input);
    r.plan = { ...r.plan, surge };
    const html = renderCapacityHtml(r);
    expect(html.indexOf('<section id="surge">')).toBeGreaterThan(html.indexOf('<section id="autoscaler">'));
    expect(html).toContain('The HPA adds the 2nd replica at 75 s (ready at 105 s); from 60 s to 105 s each replica carries more than its knee');
    expect(html).toContain('raise minReplicas to 2 or lower the target to 70%');
    expect(html).toContain('HPA sync 15 s, tolerance 10%');
    const data = embedded(html);
    expect(data.phases).toEqual([{ name: 'past the knee', startSec: 60, durationSec: 45 }]);
    const replicas = data.charts['surge-replicas']!;
    expect(replicas.x).toHaveLength(120);
    expect(replicas.series.find((s) => s.label === 'web ready')!.values[105]).toBe(2);
    expect(replicas.series.find((s) => s.label === 'web starting')!.values[80]).toBe(1);
    const load = data.charts['surge-load']!;
    expect(load.series.find((s) => s.label === 'load per replica')!.values[60]).toBe(160);
    expect(data.charts['surge-backlog']!.series.map((s) => s.label)).toEqual(['backlog', 'acceptable backlog']);
    expect(data.charts.model).toBeDefined();
  });

  it('HTML: the YAML to copy applies what the surge was simulated with; an older capacity.json keeps the older YAML', async () => {
    const r = await fixture();
    const older = renderCapacityHtml(r);
    expect(older).toContain('pollingInterval: 5');
    expect(older).toContain('periodSeconds: 60');
    const surge = simulateSurge({ ...input, autoscaler: { ...input.autoscaler, pollingSec: 12, cooldownSec: 90, scaleDownWindowSec: 240 } });
    r.plan = { ...r.plan, surge };
    const html = renderCapacityHtml(r);
    expect(html).toContain('pollingInterval: 12');
    expect(html).toContain('cooldownPeriod: 90');
    expect(html).toContain('stabilizationWindowSeconds: 240');
    expect(html).not.toContain('periodSeconds: 60');
  });

  it('HTML and terminal: a capacity.json without a prediction (older, or no recommendation) says so', async () => {
    const r = await fixture();
    expect(renderCapacityHtml(r)).toContain('No prediction: it needs a recommendation with an HPA plan.');
    expect(renderCapacitySummary(r, new Chalk({ level: 0 }))).not.toMatch(/the surge, predicted/);
  });

  it('terminal: the sentence with its advice, and the timings used', async () => {
    const r = await fixture();
    r.plan = { ...r.plan, surge: simulateSurge(input) };
    const text = renderCapacitySummary(r, new Chalk({ level: 0 }));
    expect(text).toMatch(/the surge, predicted second by second[^\n]*\n {2}the HPA adds the 2nd replica at 75 s \(ready at 105 s\); from 60 s to 105 s each replica carries more than its knee \(up to 160% of it\): expect p99 above the SLO; raise minReplicas to 2 or lower the target to 70%/);
    expect(text).toMatch(/KEDA polling 30 s, cooldown 300 s \(kubernetes defaults\)/);
  });
});
