import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { scenarioSchema, type Scenario } from './schema.js';
import { plainIssues } from './zod-issues.js';
import { checkScenario } from './check-scenario.js';
import { loadFeederRows, type FeederData } from './feeders.js';
import { formatPath, type ScenarioIssue } from './scenario-issue.js';

/** A scenario ready to run: validated, with its data files loaded. */
export interface LoadedScenario {
  /** The file as given on the command line. */
  file: string;
  scenario: Scenario;
  feeders: Record<string, FeederData>;
  /** The environment variables its templates use (`env.NAME`), and only those. */
  env: Record<string, string>;
}

export type LoadResult = { ok: true; loaded: LoadedScenario } | { ok: false; issues: ScenarioIssue[] };

class Locator {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The place of the node at path (or of its key), else of its nearest existing parent. */
  at(path: readonly PropertyKey[], atKey = false): { line: number; col: number } {
    if (atKey && path.length > 0) {
      const parent = this.doc.getIn(path.slice(0, -1) as unknown[], true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === path[path.length - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return this.pos(pair.key.range[0]);
      }
    }
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return this.pos(node.range[0]);
    }
    return { line: 1, col: 1 };
  }

  issue(path: readonly PropertyKey[], message: string, atKey = false): ScenarioIssue {
    return { file: this.file, ...this.at(path, atKey), path: formatPath(path), message };
  }

  private pos(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }
}

/**
 * Reads, parses and validates a scenario file, and loads its data feeders.
 * Never throws for a user mistake: every problem found comes back as an issue
 * with its file:line:col. The YAML input is never mutated.
 */
export async function loadScenario(file: string, env: Readonly<Record<string, string | undefined>> = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? String(err);
    return { ok: false, issues: [{ file, line: 1, col: 1, path: '', message: `cannot read scenario: ${why}` }] };
  }
  if (text.trim() === '') return { ok: false, issues: [{ file, line: 1, col: 1, path: '', message: 'the file is empty; a scenario needs name, target, phases and flows' }] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { file, line, col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const loc = new Locator(file, doc, lines);
  let data: unknown;
  try {
    // Aliases are resolved here: an unknown one, or too many (an alias bomb), throws.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, issues: [{ file, line: 1, col: 1, path: '', message: `YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, issues: plainIssues(scenarioSchema, parsed.error.issues).map((i) => loc.issue(i.path, i.message, i.atKey)) };
  }
  const scenario = parsed.data;
  const issues: ScenarioIssue[] = [];
  const feeders: Record<string, FeederData> = {};
  for (const [name, spec] of Object.entries(scenario.data)) {
    try {
      const { rows, columns } = await loadFeederRows(spec.file, dirname(resolve(file)));
      feeders[name] = { order: spec.order, rows, columns };
    } catch (err) {
      issues.push(loc.issue(['data', name, 'file'], (err as Error).message));
    }
  }
  const columns = Object.fromEntries(Object.entries(feeders).map(([k, f]) => [k, f.columns]));
  for (const i of checkScenario(scenario, columns, env)) issues.push(loc.issue(i.path, i.message));
  if (issues.length > 0) return { ok: false, issues };

  const usedEnv: Record<string, string> = {};
  for (const m of text.matchAll(/\benv\.([A-Za-z_]\w*)/g)) {
    const v = env[m[1]!];
    if (v !== undefined) usedEnv[m[1]!] = v;
  }
  return { ok: true, loaded: { file, scenario, feeders, env: usedEnv } };
}
