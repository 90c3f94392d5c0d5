import { artilleryDurationMs, scalectlDuration } from './artillery-duration.js';
import { METHODS, translateRequest, type OutStep } from './artillery-request.js';
import { rewriteTemplate, type TemplateScope } from './artillery-template.js';
import type { ImportNotes, NotePath } from './import-notes.js';

export interface OutFlow {
  name: string;
  weight?: number;
  steps?: OutStep[];
}

interface FlowContext {
  scope: TemplateScope;
  notes: ImportNotes;
  abortOnCheck: boolean;
}

const JS_HOOKS = ['beforeScenario', 'afterScenario', 'beforeRequest', 'afterResponse', 'onError'];

function translateLoop(item: Record<string, unknown>, at: NotePath, ctx: FlowContext): OutStep | undefined {
  if (item.whileTrue !== undefined) {
    ctx.notes.untranslated([...at, 'whileTrue'], `whileTrue calls the processor function ${JSON.stringify(item.whileTrue)}: scalectl runs no JavaScript; loop left out`);
    return undefined;
  }
  const loop: Record<string, unknown> = {};
  if (item.count !== undefined) {
    const n = typeof item.count === 'string' ? Number(item.count) : item.count;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      ctx.notes.untranslated([...at, 'count'], `loop count ${JSON.stringify(item.count)} is not a whole number; loop left out`);
      return undefined;
    }
    loop.count = n;
  } else if (typeof item.over === 'string') {
    // A variable's name, or a template giving the list: the list itself, not one element of it.
    const name = /^\s*\{\{(.*)\}\}\s*$/s.exec(item.over)?.[1]?.trim() ?? item.over.trim();
    loop.over = rewriteTemplate(`{{ ${name} }}`, ctx.scope, ctx.notes, [...at, 'over'], true);
  } else if (Array.isArray(item.over)) {
    loop.over = item.over.map((v, i) => (typeof v === 'string' ? rewriteTemplate(v, ctx.scope, ctx.notes, [...at, 'over', i]) : v));
  } else {
    ctx.notes.untranslated(at, 'a loop without count or over repeats forever in Artillery; loop left out');
    return undefined;
  }
  const loopKind = loop.count !== undefined ? 'count' : 'over';
  const inner = { ...ctx, scope: { ...ctx.scope, loopDepth: ctx.scope.loopDepth + 1, loopKind } as TemplateScope };
  const steps = translateSteps(item.loop, [...at, 'loop'], inner);
  if (steps.length === 0) return undefined;
  loop.steps = steps;
  for (const k of Object.keys(item)) if (!['loop', 'count', 'over'].includes(k)) ctx.notes.untranslated([...at, k], `loop option "${k}" not translated`);
  return { loop };
}

function translateItem(item: Record<string, unknown>, at: NotePath, ctx: FlowContext): OutStep | undefined {
  const { notes } = ctx;
  if (item === null || typeof item !== 'object') {
    notes.untranslated(at, 'expected a flow step mapping; left out');
    return undefined;
  }
  const method = METHODS.find((m) => item[m] !== undefined);
  if (method) return translateRequest(method, item[method] as Record<string, unknown>, [...at, method], ctx.scope, notes, ctx.abortOnCheck);
  if (item.think !== undefined) {
    const ms = artilleryDurationMs(item.think);
    if (ms !== undefined) return { think: scalectlDuration(ms) };
    notes.untranslated([...at, 'think'], `think ${JSON.stringify(item.think)} is not a number of seconds; left out`);
    return undefined;
  }
  if (item.loop !== undefined) return translateLoop(item, at, ctx);
  if (item.log !== undefined) {
    notes.note([...at, 'log'], 'log left out: scalectl prints no messages from a flow');
    return undefined;
  }
  if (item.function !== undefined) {
    notes.untranslated([...at, 'function'], `processor function ${JSON.stringify(item.function)} not translated: scalectl runs no JavaScript; step left out`);
    return undefined;
  }
  const key = Object.keys(item)[0] ?? '';
  notes.untranslated([...at, key], key === 'parallel'
    ? 'parallel requests not translated: scalectl sends a flow\'s requests one after another; step left out'
    : `flow step "${key}" not translated; left out`);
  return undefined;
}

/** A flow's (or loop's) steps; those that cannot be translated are listed and left out. */
export function translateSteps(items: unknown, at: NotePath, ctx: FlowContext): OutStep[] {
  if (!Array.isArray(items)) {
    ctx.notes.untranslated(at, 'expected a list of steps');
    return [];
  }
  return items.flatMap((item: Record<string, unknown>, i): OutStep[] => { const s = translateItem(item, [...at, i], ctx); return s ? [s] : []; });
}

/**
 * scenarios → flows. A scenario of another engine (ws, socketio,
 * playwright) is left out; one without a name is named `scenario N`, and
 * names are made unique.
 */
export function translateScenarios(scenarios: unknown, ctx: FlowContext): OutFlow[] {
  if (!Array.isArray(scenarios)) return [];
  const flows: OutFlow[] = [];
  const names = new Set<string>();
  scenarios.forEach((s: Record<string, unknown>, i) => {
    const at = ['scenarios', i];
    if (s === null || typeof s !== 'object') return ctx.notes.untranslated(at, 'expected a scenario mapping; left out');
    if (s.engine !== undefined && s.engine !== 'http') {
      return ctx.notes.untranslated([...at, 'engine'], `engine ${JSON.stringify(s.engine)} not translated: scalectl speaks HTTP; scenario left out`);
    }
    for (const k of Object.keys(s)) {
      if (JS_HOOKS.includes(k)) ctx.notes.untranslated([...at, k], `processor function ${JSON.stringify(s[k])} (${k}) not translated: scalectl runs no JavaScript`);
      else if (!['name', 'weight', 'flow', 'engine'].includes(k)) ctx.notes.untranslated([...at, k], `scenario key "${k}" not translated`);
    }
    const steps = translateSteps(s.flow, [...at, 'flow'], ctx);
    if (steps.length === 0) return ctx.notes.untranslated(at, 'no step of this scenario could be translated; scenario left out');
    let name = typeof s.name === 'string' && s.name.trim() !== '' ? s.name : `scenario ${i + 1}`;
    while (names.has(name)) name += ` (${i + 1})`;
    names.add(name);
    const flow: OutFlow = { name };
    const weight = typeof s.weight === 'string' ? Number(s.weight) : s.weight;
    if (weight === 0) return ctx.notes.note([...at, 'weight'], 'weight 0: Artillery never runs this scenario; left out');
    if (typeof weight === 'number' && weight > 0 && weight !== 1) flow.weight = weight;
    else if (weight !== undefined && weight !== 1) ctx.notes.untranslated([...at, 'weight'], `weight ${JSON.stringify(s.weight)} is not a number above 0; weight 1 used`);
    flows.push({ ...flow, steps });
  });
  return flows;
}
