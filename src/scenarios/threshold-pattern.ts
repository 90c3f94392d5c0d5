import { z } from 'zod';

/*
 * The shape of a threshold expression for the editor JSON Schema: loose
 * enough for every syntax `validate` accepts (ours and k6's), strict enough
 * to flag what is not an expression at all. `validate` still checks the
 * metric names and values (src/scenarios/threshold-expression.ts).
 */

/** `p99`, `p99.9`, `error_rate`, `cpu.max`, `orders.rate`, and k6's `p(95)`, `avg`, `rate`. */
const METRIC = String.raw`[A-Za-z_][\w.]*(?:\(\s*\d+(?:\.\d+)?\s*\))?`;
/** `200ms`, `1.5s`, `1m30s`, `80%`, `0.8`, `500` (k6: milliseconds). */
const VALUE = String.raw`-?\d+(?:\.\d+)?\s*(?:%|[a-z]+(?:\d+(?:\.\d+)?[a-z]+)*)?`;

/** `[<scope>:] <metric> <comparator> <value>`, as a regular expression source. */
export const THRESHOLD_PATTERN = String.raw`^\s*(?:.*\S\s*:\s*)?${METRIC}\s*(?:<=|>=|<|>|===?|!=)\s*${VALUE}\s*$`;

/** A threshold expression as text, with THRESHOLD_PATTERN as its pattern in the editor schema. */
export const thresholdText = (): z.ZodString => z.string().meta({ pattern: THRESHOLD_PATTERN });
