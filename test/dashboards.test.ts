import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SHOP_SERIES } from '../src/stack/contract.js';
import { REMOTE_WRITE_NAMES } from '../src/streams/remote-write-series.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Dashboard {
  uid: string;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] }[];
}

async function dashboard(file: string): Promise<Dashboard> {
  return JSON.parse(await readFile(join(ROOT, 'dashboards', file), 'utf8')) as Dashboard;
}

/** Every PromQL expression of a dashboard, its variables' selectors included (`label_values(<selector>, <label>)`). */
function expressionsOf(d: Dashboard): string[] {
  const vars = d.templating.list.filter((v) => v.type === 'query').map((v) => {
    const q = (v.query as { query: string }).query;
    return /^label_values\((.*),\s*\w+\)$/.exec(q)?.[1] ?? q;
  });
  return [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...vars];
}

const FUNCTIONS_AND_KEYWORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'irate', 'increase', 'histogram_quantile', 'vector', 'or', 'and', 'unless', 'label_values']);

/** The metric names an expression reads: identifiers outside label matchers, strings, groupings and function calls. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '[]');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !FUNCTIONS_AND_KEYWORDS.has(name) && !/^\d/.test(name));
}

/** The metric names the reference shop registers with prom-client (histograms: their three series). */
async function shopMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const dir = join(ROOT, 'src', 'stack');
  for (const file of (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = await readFile(join(dir, file), 'utf8');
    // Named in place, or by SHOP_SERIES (src/stack/protocol.ts) for the series the tool reads.
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{\s*name: (?:'(\w+)'|SHOP_SERIES\.(\w+))/g)) {
      const kind = m[1]!;
      const name = m[2] ?? SHOP_SERIES[m[3] as keyof typeof SHOP_SERIES];
      if (kind === 'Histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      else names.add(name);
    }
  }
  return names;
}

describe('Grafana dashboards', () => {
  it('name only metrics that exist, through a datasource variable', async () => {
    const shop = await shopMetricNames();
    expect(shop.has('shop_http_request_duration_seconds_bucket')).toBe(true);
    for (const [file, known] of [['scalectl-stream.json', new Set(REMOTE_WRITE_NAMES)], ['reference-stack.json', shop]] as const) {
      const d = await dashboard(file);
      const ds = d.templating.list.find((v) => v.type === 'datasource');
      expect(ds, file).toMatchObject({ name: 'datasource', query: 'prometheus' });
      expect(d.panels.length, file).toBeGreaterThan(5);
      for (const p of d.panels) {
        expect(p.datasource.uid, `${file} ${p.title}`).toBe('${datasource}');
        expect(p.targets.length, `${file} ${p.title}`).toBeGreaterThan(0);
      }
      for (const expr of expressionsOf(d)) {
        const names = metricNames(expr);
        expect(names.length, `${file}: ${expr}`).toBeGreaterThan(0);
        for (const n of names) expect(known.has(n), `${file}: ${n} in ${expr}`).toBe(true);
      }
    }
  });

  it('the stream dashboard shows every series the remote write sends, and has run and scenario variables', async () => {
    const d = await dashboard('scalectl-stream.json');
    expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'scenario', 'run_id']);
    const used = new Set(expressionsOf(d).flatMap(metricNames));
    for (const n of REMOTE_WRITE_NAMES) if (!n.endsWith('_sum') && !n.endsWith('_count')) expect(used.has(n), n).toBe(true);
  });

  it('the metric-name reader is not fooled by labels, strings or functions', () => {
    expect(metricNames('histogram_quantile(0.5, sum by (le, endpoint) (rate(x_bucket{run_id=~"$run_id", le="0.1"}[$__rate_interval])))')).toEqual(['x_bucket']);
    expect(metricNames('sum(a_total{result="pass"}) / sum(b_total) or vector(0)')).toEqual(['a_total', 'b_total']);
    expect(expressionsOf({ panels: [], templating: { list: [{ name: 'r', type: 'query', query: { query: 'label_values(m{a=~"$a"}, run_id)' } }] } } as unknown as Dashboard)).toEqual(['m{a=~"$a"}']);
  });
});
