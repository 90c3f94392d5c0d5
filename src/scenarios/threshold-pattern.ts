import { z } from 'zod';
import { DURATION_PATTERN } from '../shared/duration.js';
import { K6_METRICS } from './k6-threshold.js';
import { CUSTOM_AGGREGATES, K6_AGGREGATES, TELEMETRY_METRICS, THRESHOLD_METRICS, parseThreshold } from './threshold-expression.js';

/*
 * The shape of a threshold expression for the editor JSON Schema, built from
 * the metric lists of src/scenarios/threshold-expression.ts and from the
 * parser itself: each metric name (ours, k6's aggregates, any percentile,
 * `<name>.<aggregate>` of a custom series) goes with the values the parser
 * takes for it (a duration, a percentage up to 100% or a fraction up to 1,
 * a percentage of a core, a whole number, a number). `validate` still judges
 * what a pattern cannot see (a scope on a telemetry metric, `rate` outside a
 * k6 key, a bare number of milliseconds in our syntax).
 */

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Value shapes, widest first: the first whose sample the parser takes after a metric is the one that metric gets. */
const SHAPES = [
  { sample: '1m30s', pattern: DURATION_PATTERN.slice(1, -1) }, // the grammar without its anchors ^ and $
  { sample: '150%', pattern: String.raw`\d+(?:\.\d+)?\s*%?` },
  { sample: '50%', pattern: String.raw`(?:100(?:\.0+)?|\d{1,2}(?:\.\d+)?)\s*%|0*1(?:\.0+)?|0*0(?:\.\d+)?` },
  { sample: '-1', pattern: String.raw`-?\d+(?:\.\d+)?` },
  { sample: '0.5', pattern: String.raw`\d+(?:\.\d+)?` },
  { sample: '5', pattern: String.raw`\d+` },
] as const;

/** The value shapes the parser takes after `metric`, unscoped or else under one of the k6 metric keys. */
function shapesOf(metric: string): number[] {
  const take = (prefix: string): number[] => {
    const i = SHAPES.findIndex((s) => typeof parseThreshold(`${prefix}${metric} < ${s.sample}`) !== 'string');
    return i < 0 ? [] : [i];
  };
  const unscoped = take('');
  if (unscoped.length) return unscoped;
  return [...new Set(Object.keys(K6_METRICS).flatMap((key) => take(`${key}: `)))].sort();
}

/** Telemetry metrics (`cpu.max`, `queue_depth.final`): never read as a custom series, so not given its values. */
const BUILT_IN = [...TELEMETRY_METRICS].map(escape).join('|');

/** A percentile's percent: above 0, at most 100. */
const PERCENT = String.raw`(?:100(?:\.0+)?|(?!0+(?:\.0+)?(?![\d.]))\d{1,2}(?:\.\d+)?)`;

/** Metric spellings as regular expression sources, with samples the parser reads as that metric (it takes the values of all). */
const METRICS: { pattern: string; samples: string[] }[] = [
  ...[...new Set([...THRESHOLD_METRICS, ...K6_AGGREGATES])].map((m) => ({ pattern: escape(m), samples: [m] })),
  { pattern: `p${PERCENT}`, samples: ['p75'] },
  { pattern: String.raw`p\(\s*${PERCENT}\s*\)`, samples: ['p(75)'] },
  {
    pattern: String.raw`(?!(?:${BUILT_IN})\s*[<>=!])[a-z][a-z0-9_]*\.(?:${CUSTOM_AGGREGATES.join('|')})`,
    samples: CUSTOM_AGGREGATES.map((a) => `orders.${a}`),
  },
];

/** `<metric> <comparator> <value>` for each group of metrics taking the same values. */
function expressionPattern(): string {
  const groups = new Map<string, string[]>();
  for (const m of METRICS) {
    const shapes = [...new Set(m.samples.flatMap(shapesOf))].sort();
    if (!shapes.length) continue;
    const key = shapes.join(',');
    groups.set(key, [...(groups.get(key) ?? []), m.pattern]);
  }
  const comparator = String.raw`\s*(?:<=|>=|<|>|===?|!=)\s*`;
  return [...groups].map(([key, metrics]) => {
    const values = key.split(',').map((i) => SHAPES[Number(i)]!.pattern).join('|');
    return `(?:${metrics.join('|')})${comparator}(?:${values})`;
  }).join('|');
}

/** `[<scope>:] <metric> <comparator> <value>`, as a regular expression source. */
export const THRESHOLD_PATTERN = String.raw`^\s*(?:.*\S\s*:\s*)?(?:${expressionPattern()})\s*$`;

/** A threshold expression as text, with THRESHOLD_PATTERN as its pattern in the editor schema. */
export const thresholdText = (): z.ZodString => z.string().meta({ pattern: THRESHOLD_PATTERN });

/**
 * A key of the k6-style `thresholds:` mapping: a k6 metric scalectl reads
 * (src/scenarios/k6-threshold.ts), with one of its tag filters if it takes
 * any (one filter: no `, other:` after its value).
 */
export const K6_KEY_PATTERN = String.raw`^\s*(?:${Object.entries(K6_METRICS).map(([name, spec]) => {
  const tags = Object.keys(spec.tags);
  return escape(name) + (tags.length ? String.raw`(?:\s*\{\s*(?:${tags.join('|')})\s*:\s*[^\s}](?:(?!,\s*[A-Za-z_]\w*\s*:).)*\})?` : '');
}).join('|')})\s*$`;

/** A k6 metric key as text, with K6_KEY_PATTERN as its pattern in the editor schema. */
export const k6KeyText = (): z.ZodString => z.string().meta({ pattern: K6_KEY_PATTERN });
