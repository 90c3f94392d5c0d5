import { Chalk, type ChalkInstance } from 'chalk';

type Env = Readonly<Record<string, string | undefined>>;

/** Chalk's levels: 0 none, 1 the 16 basic colours, 2 256 colours, 3 true colour. */
type Level = 0 | 1 | 2 | 3;

/**
 * The colour level FORCE_COLOR asks for, or undefined when it is unset:
 * `0`/`false` off; `1`, `true` or empty basic colours; `2` 256; `3` true colour
 * (the convention of chalk, Node and many CLIs).
 */
function forcedLevel(env: Env): Level | undefined {
  const v = env.FORCE_COLOR?.trim().toLowerCase();
  if (v === undefined) return undefined;
  if (v === '0' || v === 'false') return 0;
  if (v === '2' || v === '3') return Number(v) as Level;
  return 1;
}

/**
 * Colour for a stream: NO_COLOR (set and not empty, per no-color.org) turns it
 * off whatever else is set; otherwise FORCE_COLOR decides (on even when the
 * stream is not a terminal, as in CI logs that render colour); otherwise on
 * only for a terminal.
 */
export function colorsFor(stream: { isTTY?: boolean }, env: Env): ChalkInstance {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return new Chalk({ level: 0 });
  return new Chalk({ level: forcedLevel(env) ?? (stream.isTTY ? 1 : 0) });
}

/** True when `CI` is set to a true value (`true`, `1`, a CI's name), as CI services do; `false`, `0` and empty are not. */
export function inCi(env: Env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}
