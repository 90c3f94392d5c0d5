import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour for a stream: on only for a terminal, and never when NO_COLOR is set
 * (any value, per no-color.org) or FORCE_COLOR=0.
 */
export function colorsFor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): ChalkInstance {
  const off = env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? true : env.FORCE_COLOR === '0' || !stream.isTTY;
  return new Chalk({ level: off ? 0 : 1 });
}
