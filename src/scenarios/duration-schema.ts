import { z } from 'zod';
import { parseDuration } from './duration.js';

/** Longest duration a timer can wait (2^31 − 1 ms, about 24.8 days); longer ones would fire at once. */
const MAX_DURATION_MS = 2_147_483_647;

/** A duration: `500ms`, `15s`, `2m`, `1h`, or a number of seconds. Parsed to milliseconds. */
export const durationSchema = z
  .union([z.number().nonnegative(), z.string()])
  .meta({ description: 'A duration: 500ms, 15s, 2m, 1h, or a number of seconds.' })
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like 500ms, 15s or 2m, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `at most 24 days, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });
