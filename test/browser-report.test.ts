import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapacityResult } from '../src/capacity/capacity-result.js';
import type { RunResult } from '../src/analyzers/run-result.js';
import type { TelemetrySummary } from '../src/analyzers/telemetry.js';
import { renderCapacityHtml } from '../src/reporters/html-capacity.js';
import { renderRunHtml } from '../src/reporters/html.js';
import { formatDuration } from '../src/shared/duration.js';

// scripts/ensure-chromium.js (run by npm test) installs it when missing.
const CHROMIUM = process.env.SCALECTL_CHROMIUM || '/usr/bin/chromium';
/** Screenshots, for people to look at (git-ignored). */
const SHOTS = fileURLToPath(new URL('../test-results/', import.meta.url));

const fixture = async <T>(name: string): Promise<T> => JSON.parse(await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;

describe('HTML reports in a real browser', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    dir = await mkdtemp(join(tmpdir(), 'scalectl-test-browser-'));
    await mkdir(SHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => browser?.close());

  /** Opens the file from disk: records console errors, page errors and every request that is not the file itself. */
  async function open(html: string, name: string): Promise<{ errors: string[]; requests: string[]; charts: { id: string; width: number; height: number; painted: number }[]; legends: string[][] }> {
    const file = join(dir, name);
    await writeFile(file, html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => { if (r.url() !== pathToFileURL(file).href) requests.push(r.url()); });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // Each chart's canvas: its size, and how many pixels carry the first series' colour (#0072B2):
    // grid, axes and phase shading are grey, so only a drawn data series counts.
    const charts = await page.$$eval('[data-chart]', (els) => els.map((el) => {
      const c = el.querySelector('canvas');
      if (!c) return { id: el.getAttribute('data-chart') ?? '', width: 0, height: 0, painted: 0 };
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - 0x00) < 40 && Math.abs(px[i + 1]! - 0x72) < 40 && Math.abs(px[i + 2]! - 0xb2) < 40 && px[i + 3]! > 128) painted++;
      return { id: el.getAttribute('data-chart') ?? '', width: c.width, height: c.height, painted };
    }));
    // What each chart's legend reads with no cursor over it (as on a printout): `label value` per series.
    const legends = await page.$$eval('[data-chart]', (els) => els.map((el) => [...el.querySelectorAll('.u-legend .u-series')].map((row) => (row.textContent ?? '').trim())));
    await page.screenshot({ path: join(SHOTS, name.replace(/\.html$/, '.png')), fullPage: true });
    await page.close();
    return { errors, requests, charts, legends };
  }

  it('the run report loads from disk offline: no console errors, no requests, every chart drawn', async () => {
    const r = await fixture<RunResult>('run-result.json');
    r.timeseries = r.timeseries.map((p, i) => ({ ...p, cacheHitRatio: 0.4 + i / 10, queueDepth: i, jobsPerSec: 2, cpuPercent: 35, cpuMaxWorkerPercent: 20, replicas: { web: 1 + i, consumer: 1 } }));
    // Replicas with a scaling event during the load and one in the drain after it (the chart's steps, second axis and markers).
    (r.telemetry as TelemetrySummary).replicas = {
      roles: { web: { min: 1, max: 2, final: 1 }, consumer: { min: 1, max: 1, final: 1 } },
      events: [{ t: 1.2, role: 'web', from: 1, to: 2 }, { t: 4.5, role: 'web', from: 2, to: 1 }],
    };
    const { errors, requests, charts, legends } = await open(renderRunHtml(r), 'run.html');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['latency', 'rate', 'errors', 'cache', 'queue', 'cpu', 'replicas']);
    for (const c of charts) {
      expect(c.width, c.id).toBeGreaterThan(300);
      expect(c.painted, c.id).toBeGreaterThan(50);
    }
    // Legends give each series' summary, never uPlot's "--" placeholder.
    expect(legends[0]).toEqual(['time (s)0–1', ...(['p50', 'p95', 'p99'] as const).map((k) => `${k}${formatDuration(r.totals.latencyMs[k])} over the run`)]);
    for (const l of legends.flat()) expect(l).not.toMatch(/--/);
    expect(legends[6]).toEqual(['time (s)0–4.5', 'webmin 1, max 2, final 1', 'consumer1 (steady)', `achieved iterations/s${legends[6]![3]!.slice('achieved iterations/s'.length)}`]);
  }, 60_000);

  it('the capacity report too, with its model chart', async () => {
    const r = await fixture<CapacityResult>('capacity-result.json');
    const { errors, requests, charts, legends } = await open(renderCapacityHtml(r), 'capacity.html');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['model']);
    expect(charts[0]!.painted).toBeGreaterThan(50);
    expect(legends[0]![1]).toMatch(/^measured knee1: \d+, 2: \d+$/);
    for (const l of legends.flat()) expect(l).not.toMatch(/--/);
  }, 60_000);
});
