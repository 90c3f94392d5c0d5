import { stackKnobs, type StackSettings } from '../stack/contract.js';

/**
 * The knobs that act only with `autoscale` on: the schema's own word for
 * them, their description's `autoscale:` prefix (no second list to drift).
 */
const AUTOSCALE_ONLY: ReadonlySet<string> = new Set(
  Object.entries(stackKnobs).filter(([, knob]) => knob.meta()?.description?.startsWith('autoscale:')).map(([key]) => key),
);

/**
 * A reference stack's settings in one line for people: `workers 2, backends
 * embedded, cache off, cacheTtl 30s, ...`. The autoscaling bounds and timings
 * are left out while `autoscale` is off (they act on nothing then); the
 * start counts (workers, consumers) always show.
 */
export function describeStack(settings: StackSettings): string {
  const autoscale = settings.autoscale === true;
  return Object.entries(settings)
    .filter(([k]) => autoscale || !AUTOSCALE_ONLY.has(k))
    .map(([k, v]) => `${k} ${typeof v === 'boolean' ? (v ? 'on' : 'off') : v}`).join(', ');
}
