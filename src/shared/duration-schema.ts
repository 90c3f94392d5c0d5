import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { echo } from './printable.js';

/** Longest duration a timer can wait (2^31 − 1 ms, about 24.8 days); longer ones would fire at once. */
const MAX_DURATION_MS = 2_147_483_647;

const DESCRIPTION = 'A duration: 500ms, 15s, 2m, 10min, 1h, 1m30s, or a number of seconds.';

/** The duration text, with the parser's grammar as its pattern in the editor JSON Schema. */
const durationText = () => z.string().meta({ pattern: DURATION_PATTERN });

/**
 * The grammar of a duration above 0: some digit of it is not 0 (the grammar
 * has no exponents, so `0`, `0s`, `0ms`, `0m0s` and `0.0s` are the zeros).
 */
export const POSITIVE_DURATION_PATTERN = String.raw`(?=[^1-9]*[1-9])` + DURATION_PATTERN;

/** Milliseconds of a duration, or z.NEVER after adding the issue. */
function toMs(v: number | string, ctx: z.RefinementCtx): number {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 500ms, 15s, 2m or 1m30s, got ${echo(v)}` });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: `at most 24 days, got ${echo(v)}` });
    return z.NEVER;
  }
  return ms;
}

/** A duration: `500ms`, `15s`, `2m`, `1h`, `1m30s`, or a number of seconds (0 allowed). Parsed to milliseconds. */
export const durationSchema = z
  .union([z.number().nonnegative(), durationText()])
  .meta({ description: DESCRIPTION })
  .transform(toMs);

/**
 * A duration above 0, parsed to milliseconds. `tooSmall` is the message for
 * 0 and for a negative number alike, so `-1`, `0` and `0s` read the same.
 */
export function positiveDurationSchema(tooSmall: string) {
  return z
    .union([z.number().meta({ exclusiveMinimum: 0 }), z.string().meta({ pattern: POSITIVE_DURATION_PATTERN })])
    .meta({ description: DESCRIPTION })
    .transform((v, ctx) => {
      if (typeof v === 'number' && v <= 0) {
        ctx.addIssue({ code: 'custom', message: tooSmall });
        return z.NEVER;
      }
      const ms = toMs(v, ctx);
      if (ms === 0) {
        ctx.addIssue({ code: 'custom', message: tooSmall });
        return z.NEVER;
      }
      return ms;
    });
}
