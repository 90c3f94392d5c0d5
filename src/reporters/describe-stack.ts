import type { StackSettings } from '../stack/reference-target.js';

/** A reference stack's settings in one line for people: `workers 2, backends embedded, cache off, cacheTtl 30s, ...`. */
export function describeStack(settings: StackSettings): string {
  return Object.entries(settings).map(([k, v]) => `${k} ${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`).join(', ');
}
