import { basename, extname } from 'node:path';
import { Document, isCollection, isScalar, visit } from 'yaml';
import { inputError, usageError } from '../../exit-codes.js';
import { formatIssue } from '../scenario-issue.js';
import { parseScenarioYaml } from '../parse-scenario-yaml.js';
import { printable } from '../../shared/printable.js';
import { ImportNotes, formatNote, type ImportNote } from './import-notes.js';
import { translatePhases } from './artillery-phases.js';
import { translateEnsure } from './artillery-ensure.js';
import { translatePayload, type PayloadPlaces } from './artillery-payload.js';
import { translateScenarios } from './artillery-flow.js';
import { artilleryDurationMs, scalectlDuration } from './artillery-duration.js';
import { looksLikeArtillery } from './looks-like-artillery.js';
import { rewriteTemplate, type TemplateScope } from './artillery-template.js';

export interface ArtilleryImport {
  /** The scenario, as YAML, with a header comment naming the source. */
  yaml: string;
  notes: ImportNote[];
  /** CSV copies to write next to the scenario (absolute path → text). */
  copies: Record<string, string>;
  /** Payload files the script reads (absolute), which no output may replace. */
  inputs: string[];
}

const CONFIG_KEYS = ['target', 'phases', 'variables', 'payload', 'ensure', 'plugins', 'http', 'defaults', 'tls'];
/** Plugins whose work scalectl does itself. */
const BUILT_IN_PLUGINS: Record<string, string | undefined> = {
  ensure: undefined,
  expect: undefined,
  'metrics-by-endpoint': 'metrics by endpoint are built in: every step is an endpoint in the results (name it with name:)',
};

type Config = Record<string, unknown>;

function translateDefaults(config: Config, scope: TemplateScope, notes: ImportNotes): Record<string, unknown> | undefined {
  const defaults: Record<string, unknown> = {};
  const http = (config.http ?? {}) as Config;
  const headers = { ...((config.defaults as Config | undefined)?.headers as Config), ...((http.defaults as Config | undefined)?.headers as Config) };
  if (Object.keys(headers).length > 0) defaults.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), rewriteTemplate(String(v), scope, notes, ['config', 'defaults', 'headers', k])]));
  if (http.timeout !== undefined) {
    const ms = artilleryDurationMs(http.timeout);
    if (ms) defaults.timeout = scalectlDuration(ms);
    else notes.untranslated(['config', 'http', 'timeout'], 'expected a number of seconds');
  }
  for (const k of Object.keys(http)) {
    if (k !== 'timeout' && !(k === 'defaults' && Object.keys(http.defaults as Config).every((d) => d === 'headers'))) {
      notes.untranslated(['config', 'http', k], `http option "${k}" not translated${k === 'pool' || k === 'maxSockets' ? ' (scalectl sizes its connections itself: defaults.connections)' : ''}`);
    }
  }
  for (const k of Object.keys((config.defaults ?? {}) as Config)) if (k !== 'headers') notes.untranslated(['config', 'defaults', k], `defaults option "${k}" not translated`);
  const tls = config.tls as Config | undefined;
  if (tls?.rejectUnauthorized === false) defaults.tls = { insecure: true };
  for (const k of Object.keys(tls ?? {})) if (k !== 'rejectUnauthorized') notes.untranslated(['config', 'tls', k], `tls option "${k}" not translated`);
  return Object.keys(defaults).length > 0 ? defaults : undefined;
}

function translatePlugins(config: Config, notes: ImportNotes): { thresholds: string[]; abortOnCheck: boolean } {
  const plugins = (config.plugins ?? {}) as Config;
  const thresholds = [
    ...translateEnsure(config.ensure, ['config', 'ensure'], notes),
    ...translateEnsure(plugins.ensure, ['config', 'plugins', 'ensure'], notes),
  ];
  for (const name of Object.keys(plugins)) {
    if (name in BUILT_IN_PLUGINS) {
      const note = BUILT_IN_PLUGINS[name];
      if (note) notes.note(['config', 'plugins', name], note);
    } else notes.untranslated(['config', 'plugins', name], `plugin "${name}" not translated: scalectl has no plugins`);
  }
  const expect = (plugins.expect ?? {}) as Config;
  return { thresholds, abortOnCheck: expect.reportFailuresAsErrors === true || expect.reportFailuresAsErrors === 'true' };
}

function translateVariables(variables: unknown, notes: ImportNotes): { variables: Record<string, unknown>; lists: Set<string> } {
  const out: Record<string, unknown> = {};
  const lists = new Set<string>();
  for (const [name, value] of Object.entries((variables ?? {}) as Config)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
      notes.untranslated(['config', 'variables', name], 'a variable name must be made of letters, digits and _; left out');
      continue;
    }
    out[name] = value;
    if (Array.isArray(value)) {
      lists.add(name);
      notes.note(['config', 'variables', name], `Artillery picks one element of a list variable per virtual user; {{ ${name} }} became {{ randomItem(${name}) }}, which picks again at each use`);
    }
  }
  return { variables: out, lists };
}

/**
 * The config with the settings of `config.environments[name]` over it, as
 * Artillery's `--environment` does (notes on them point into the environment).
 */
function withEnvironment(config: Config, name: string | undefined, notes: ImportNotes): Config {
  if (name === undefined) return config;
  const environments = (config.environments ?? {}) as Config;
  const env = environments[name];
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    const known = Object.keys(environments);
    throw usageError(`--environment ${printable(name)}: the script has ${known.length ? `the environments ${known.join(', ')}` : 'no config.environments'}`);
  }
  for (const k of Object.keys(env)) notes.move(['config', k], ['config', 'environments', name, k]);
  const { environments: _unused, ...rest } = config;
  return merge(rest, env as Config);
}

const isPlain = (v: unknown): v is Config => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `over` merged into `base`, mappings key by key (as lodash's merge, which Artillery uses); anything else replaced. */
function merge(base: Config, over: Config): Config {
  const out: Config = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k], v) : v;
  return out;
}

/**
 * Translates an Artillery script (YAML text) into a scalectl scenario. What
 * has no counterpart (processor functions, hooks, plugins, other engines)
 * is left out and listed with its line and column. Throws a UserError (exit
 * 3) when the text is not YAML or not an Artillery script.
 */
export function importArtillery(file: string, text: string, places: PayloadPlaces & { environment?: string }): ArtilleryImport {
  const parsed = parseScenarioYaml(file, text);
  if (parsed.fatal) throw inputError(parsed.issues.map(formatIssue).join('\n'));
  const data = parsed.doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!looksLikeArtillery(data)) {
    throw inputError(`${printable(file)}: not an Artillery script: expected a top-level config (with target or phases) and a list of scenarios`);
  }
  const script = data as Config;
  const notes = new ImportNotes(parsed.doc, parsed.lines);
  const config = withEnvironment((script.config ?? {}) as Config, places.environment, notes);
  for (const k of Object.keys(script)) {
    if (k === 'before' || k === 'after') notes.untranslated([k], `the ${k} section runs once per test, outside the load; scalectl has no such section: left out`);
    else if (k !== 'config' && k !== 'scenarios') notes.untranslated([k], `top-level key "${k}" not translated`);
  }
  for (const k of Object.keys(config)) {
    if (k === 'processor') notes.untranslated(['config', k], `processor ${JSON.stringify(config[k])} not loaded: scalectl runs no JavaScript (each function it provides is listed where it is used)`);
    else if (k === 'environments') notes.untranslated(['config', k], `environments (${Object.keys(config[k] as Config).join(', ')}) not translated: pick one with --environment <name>`);
    else if (!CONFIG_KEYS.includes(k)) notes.untranslated(['config', k], `config key "${k}" not translated`);
  }
  let target = typeof config.target === 'string' && !config.target.includes('{{') ? config.target : undefined;
  if (!target) {
    notes.untranslated(['config', 'target'], 'no usable config.target: http://127.0.0.1:8080 written instead; edit it or pass run --target');
    target = 'http://127.0.0.1:8080';
  }
  const { phases, maxInFlight } = translatePhases(config.phases, notes);
  const { variables, lists } = translateVariables(config.variables, notes);
  const payload = translatePayload(config.payload, places, notes, new Set(Object.keys(variables)));
  const { thresholds, abortOnCheck } = translatePlugins(config, notes);
  const placeholders = new Set<string>();
  const scope = { fields: payload.fields, lists, loopDepth: 0, declared: new Set([...Object.keys(variables), ...Object.keys(payload.variables), ...payload.fields.keys()]), placeholders };
  const flows = translateScenarios(script.scenarios, { scope, notes, abortOnCheck });
  if (flows.length === 0) throw inputError(`${printable(file)}: no scenario could be translated:\n${notes.list.map((n) => formatNote(file, n)).join('\n')}`);

  const scenario: Record<string, unknown> = { name: basename(file, extname(file)), target };
  if (maxInFlight !== undefined) scenario.maxInFlight = maxInFlight;
  const defaults = translateDefaults(config, scope, notes);
  if (defaults) scenario.defaults = defaults;
  const allVariables: Record<string, unknown> = { ...variables, ...payload.variables };
  for (const name of placeholders) if (!(name in allVariables)) allVariables[name] = '';
  if (Object.keys(allVariables).length > 0) scenario.variables = allVariables;
  if (Object.keys(payload.data).length > 0) scenario.data = payload.data;
  scenario.phases = phases;
  scenario.flows = flows;
  if (thresholds.length > 0) scenario.thresholds = thresholds;
  const sorted = [...notes.list].sort((a, b) => a.line - b.line || a.col - b.col);
  return { yaml: render(file, scenario, sorted), notes: sorted, copies: payload.copies, inputs: payload.sources };
}

function render(file: string, scenario: Record<string, unknown>, notes: ImportNote[]): string {
  const doc = new Document(scenario);
  // Short lists and mappings of plain values on one line, as people write them: { status: [202, 409] }.
  visit(doc, {
    Collection(_key, node) {
      const values = node.items.map((i) => (isScalar(i) ? i : (i as { value?: unknown }).value));
      if (!values.every((v) => isScalar(v) && !String(v.value).includes('\n'))) return;
      if (JSON.stringify(node.toJSON()).length <= 72) node.flow = true;
    },
  });
  // Steps and thresholds stay one per line, whatever their length.
  visit(doc, {
    Pair(_key, pair) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if ((key === 'steps' || key === 'thresholds') && isCollection(pair.value)) {
        pair.value.flow = false;
        for (const item of pair.value.items) if (isCollection(item)) item.flow = false;
      }
    },
  });
  const left = notes.filter((n) => n.kind === 'untranslated');
  doc.commentBefore = [
    ` Translated from the Artillery script ${printable(basename(file))} by scalectl import artillery (docs/migrating.md).`,
    ...(left.length > 0 ? [` Not translated (${left.length}):`, ...left.map((n) => `   line ${n.line}: ${printable(n.path)}: ${printable(n.message)}`)] : []),
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
