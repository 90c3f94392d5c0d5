import { artilleryDurationMs, scalectlDuration } from './artillery-duration.js';
import type { ImportNotes } from './import-notes.js';

/** A phase of the translated scenario, as it will be written. */
export type OutPhase = Record<string, string | number>;

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * config.phases → phases. arrivalCount N over D becomes arrivalRate N/D,
 * written in full precision: the schedule starts ⌈rate·D⌉ arrivals (with a
 * guard against float error), which is exactly N. maxVusers becomes the
 * scenario's maxInFlight (the largest one; ours is one cap for the whole run).
 */
export function translatePhases(phases: unknown, notes: ImportNotes): { phases: OutPhase[]; maxInFlight?: number } {
  if (phases === undefined) {
    notes.note(['config'], 'no config.phases: Artillery then runs one virtual user once; translated as one arrival ({ duration: 1s, arrivalRate: 1 })');
    return { phases: [{ duration: '1s', arrivalRate: 1 }] };
  }
  if (!Array.isArray(phases)) {
    notes.untranslated(['config', 'phases'], 'expected a list of phases');
    return { phases: [{ duration: '1s', arrivalRate: 1 }] };
  }
  const out: OutPhase[] = [];
  const caps: number[] = [];
  phases.forEach((p: Record<string, unknown>, i) => {
    const at = ['config', 'phases', i];
    if (p === null || typeof p !== 'object') return notes.untranslated(at, 'expected a phase mapping');
    const known = ['name', 'duration', 'arrivalRate', 'rampTo', 'arrivalCount', 'pause', 'maxVusers'];
    for (const k of Object.keys(p)) if (!known.includes(k)) notes.untranslated([...at, k], `phase key "${k}" not translated`);
    const phase: OutPhase = {};
    if (typeof p.name === 'string' && p.name !== '') phase.name = p.name;
    if (p.pause !== undefined) {
      const ms = artilleryDurationMs(p.pause);
      if (ms === undefined || ms === 0) return notes.untranslated([...at, 'pause'], `pause ${JSON.stringify(p.pause)} is not a duration; phase left out`);
      out.push({ ...phase, pause: scalectlDuration(ms) });
      return;
    }
    const ms = artilleryDurationMs(p.duration);
    if (ms === undefined || ms === 0) return notes.untranslated([...at, 'duration'], `duration ${JSON.stringify(p.duration)} is not a duration above 0; phase left out`);
    phase.duration = scalectlDuration(ms);
    if (p.arrivalCount !== undefined) {
      const n = num(p.arrivalCount);
      if (n === undefined) return notes.untranslated([...at, 'arrivalCount'], `arrivalCount ${JSON.stringify(p.arrivalCount)} is not a number; phase left out`);
      phase.arrivalRate = n / (ms / 1000);
    } else {
      const rate = p.arrivalRate === undefined ? 0 : num(p.arrivalRate);
      const rampTo = p.rampTo === undefined ? undefined : num(p.rampTo);
      if (rate === undefined || (p.rampTo !== undefined && rampTo === undefined)) {
        return notes.untranslated(at, 'arrivalRate and rampTo must be numbers (templates are not translated); phase left out');
      }
      phase.arrivalRate = rate;
      if (rampTo !== undefined && rampTo !== rate) phase.rampTo = rampTo;
    }
    if (p.maxVusers !== undefined) {
      const cap = num(p.maxVusers);
      if (cap === undefined || cap < 1) notes.untranslated([...at, 'maxVusers'], 'maxVusers must be a number above 0');
      else caps.push(Math.floor(cap));
    }
    out.push(phase);
  });
  if (caps.length === 0) return { phases: out };
  const maxInFlight = Math.max(...caps);
  if (caps.length < out.filter((p) => p.arrivalRate !== undefined).length || caps.some((c) => c !== maxInFlight)) {
    notes.note(['config', 'phases'], `maxVusers differs between phases; maxInFlight (one cap for the whole run) is the largest, ${maxInFlight}`);
  }
  return { phases: out, maxInFlight };
}
