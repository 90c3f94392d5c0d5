import { dirname, resolve } from 'node:path';
import { isMap, isNode, type Document, type LineCounter } from 'yaml';
import { scenarioSchema, type FeederSpec, type Scenario } from './schema.js';
import { plainIssues } from './zod-issues.js';
import { checkInputOf, checkScenario, type CheckInput } from './check-scenario.js';
import { partialCheckInput, partialFeederSpecs } from './partial-scenario.js';
import { loadFeederRows, type FeederData } from './feeders.js';
import { formatPath, type ScenarioIssue } from './scenario-issue.js';
import { MAX_SCENARIO_BYTES, readTextFileBytes } from './read-text-file.js';
import { scenarioHash } from './scenario-hash.js';
import { parseScenarioYaml } from './parse-scenario-yaml.js';
import { printable } from '../shared/printable.js';
import { promqlAuthIssues } from '../telemetry/telemetry-plan.js';
import { looksLikeArtillery } from './artillery/looks-like-artillery.js';
import { loadTlsFiles, type TlsSettings } from './tls-files.js';

/** A scenario ready to run: validated, with its data files loaded. */
export interface LoadedScenario {
  /** The file as given on the command line. */
  file: string;
  scenario: Scenario;
  feeders: Record<string, FeederData>;
  /** The environment variables its templates use (`env.NAME`), and only those. */
  env: Record<string, string>;
  /** defaults.tls with its files read; undefined when the scenario has none. */
  tls?: TlsSettings;
  /** The scenario file's and its data files' bytes, hashed (scenarioHash): shards of one run must agree on it. */
  hash: string;
}

/** The environment variables a scenario's text reads (`env.NAME`), each once, in order of first use. */
export function envNamesIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\benv\.([A-Za-z_]\w*)/g)].map((m) => m[1]!))];
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

function fileIssue(file: string, message: string): LoadResult {
  return { ok: false, issues: [{ file, line: 1, col: 1, path: '', message }] };
}

function isUnder(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}

/** In file order (line, then column); issues at one place keep their order. */
function byPosition(a: ScenarioIssue, b: ScenarioIssue): number {
  return a.line - b.line || a.col - b.col;
}

/**
 * Reads, parses and validates a scenario file, and loads its data feeders.
 * Never throws for a user mistake: every problem found comes back as an issue
 * with its file:line:col, all in one pass (schema, templates, thresholds,
 * data files), in file order. The YAML input is never mutated. `shownAs`:
 * the path as the user gave it, for hints that name the file (default: `file`).
 */
export async function loadScenario(file: string, env: Readonly<Record<string, string | undefined>> = {}, shownAs = file): Promise<LoadResult> {
  let text: string;
  let bytes: Uint8Array;
  try {
    ({ text, bytes } = await readTextFileBytes(file, MAX_SCENARIO_BYTES));
  } catch (err) {
    return fileIssue(file, `cannot read scenario: ${(err as Error).message}`);
  }
  if (text.trim() === '') return fileIssue(file, 'the file is empty; a scenario needs name, target, phases and flows');
  const yaml = parseScenarioYaml(file, text);
  if (yaml.fatal) return { ok: false, issues: yaml.issues.sort(byPosition) };
  const { doc, lines } = yaml;
  const loc = new Locator(file, doc, lines);
  let data: unknown;
  try {
    // Aliases are resolved here: an unknown one, or too many (an alias bomb), throws.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return fileIssue(file, `YAML: ${printable((err as Error).message.split('\n')[0]!)}`);
  }
  const issues: ScenarioIssue[] = [...yaml.issues];
  const parsed = scenarioSchema.safeParse(data, { reportInput: true });
  // Its field errors (config, scenarios: unknown keys; flows: required ...) would only bury the one thing to do.
  if (!parsed.success && looksLikeArtillery(data)) {
    return { ok: false, issues: [loc.issue(['config'], `this looks like an Artillery script (config, scenarios), not a scalectl scenario; translate it with: scalectl import artillery ${printable(shownAs)} -o scenario.yaml`, true)] };
  }
  let input: CheckInput;
  let specs: [string, FeederSpec][];
  if (parsed.success) {
    input = checkInputOf(parsed.data);
    specs = Object.entries(parsed.data.data);
  } else {
    for (const i of plainIssues(scenarioSchema, parsed.error.issues)) {
      if (!yaml.reported.some((r) => isUnder(i.path, r))) issues.push(loc.issue(i.path, i.message, i.atKey));
    }
    // A mapping's fields are checked one by one below; anything else was reported whole.
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, issues: issues.sort(byPosition) };
    input = partialCheckInput(data);
    specs = partialFeederSpecs(data);
  }
  const feeders: Record<string, FeederData> = {};
  const dataBytes: Uint8Array[] = [];
  for (const [name, spec] of specs) {
    try {
      const { rows, columns, bytes: fileBytes } = await loadFeederRows(spec.file, dirname(resolve(file)));
      feeders[name] = { order: spec.order, rows, columns };
      dataBytes.push(fileBytes);
    } catch (err) {
      issues.push(loc.issue(['data', name, 'file'], (err as Error).message));
    }
  }
  const tls = await loadTlsFiles(parsed.success ? parsed.data.defaults.tls : undefined, dirname(resolve(file)), env);
  for (const i of tls.issues) issues.push(loc.issue(i.path, i.message));
  const columns = Object.fromEntries(Object.entries(feeders).map(([k, f]) => [k, f.columns]));
  for (const i of checkScenario(input, columns, env)) issues.push(loc.issue(i.path, i.message, i.atKey));
  // The secrets telemetry.promql.auth names are checked now, before a stack starts or load is sent.
  if (parsed.success) for (const i of promqlAuthIssues(parsed.data.telemetry, env)) issues.push(loc.issue(i.path, i.message));
  if (issues.length > 0 || !parsed.success) return { ok: false, issues: issues.sort(byPosition) };

  const usedEnv: Record<string, string> = {};
  for (const name of envNamesIn(text)) {
    const v = env[name];
    if (v !== undefined) usedEnv[name] = v;
  }
  const hash = scenarioHash(bytes, dataBytes);
  return { ok: true, loaded: { file, scenario: parsed.data, feeders, env: usedEnv, ...(tls.tls ? { tls: tls.tls } : {}), hash } };
}
