import { readFileSync } from 'node:fs';
import { basename, extname, relative, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ImportNotes } from './import-notes.js';

export interface PayloadResult {
  /** Feeders for `data:`. */
  data: Record<string, { file: string; order: 'sequential' | 'random' }>;
  /** Each payload field and the feeder column that reads it (`url` → `urls.url`). */
  fields: Map<string, string>;
  /** loadAll payloads: the whole file as a list of rows, by name. */
  variables: Record<string, Record<string, string>[]>;
  /** Copies to write (absolute path → CSV text): files whose rows need a header row our feeders read. */
  copies: Record<string, string>;
  /** The payload files read (absolute). */
  sources: string[];
}

export interface PayloadPlaces {
  /** The Artillery script's folder (payload paths are relative to it). */
  scriptDir: string;
  /** Where the scenario goes (feeder paths are written relative to it). */
  outDir: string;
  /** False when the scenario goes to stdout: no copies can be written. */
  canWrite: boolean;
}

function identifier(name: string): string {
  const id = name.replace(/[^\w$]/g, '_');
  return /^[A-Za-z_$]/.test(id) ? id : `data_${id}`;
}

function csvCell(v: string): string {
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function readRows(path: string, delimiter: string): string[][] {
  return parseCsv(readFileSync(path, 'utf8'), { delimiter, skip_empty_lines: true, relax_column_count: true, bom: true }) as string[][];
}

/**
 * config.payload → data feeders. Our CSV feeders read a header row; an
 * Artillery payload names its columns in `fields` and has no header unless
 * `skipHeader: true`. A file whose first row is exactly `fields`, comma-
 * separated, is used as it is; any other gets a copy with `fields` as its
 * header row (and commas), written next to the scenario. Artillery's default
 * order is random; `sequence` becomes sequential. `loadAll` (every row for
 * every virtual user, under `name`) becomes a list variable.
 */
export function translatePayload(payload: unknown, places: PayloadPlaces, notes: ImportNotes, taken: Set<string>): PayloadResult {
  const result: PayloadResult = { data: {}, fields: new Map(), variables: {}, copies: {}, sources: [] };
  if (payload === undefined) return result;
  const list = Array.isArray(payload) ? payload : [payload];
  list.forEach((p: Record<string, unknown>, i) => {
    const at = Array.isArray(payload) ? ['config', 'payload', i] : ['config', 'payload'];
    if (p === null || typeof p !== 'object' || typeof p.path !== 'string') return notes.untranslated(at, 'a payload needs a path; left out');
    for (const k of Object.keys(p)) {
      if (!['path', 'fields', 'order', 'skipHeader', 'delimiter', 'name', 'loadAll', 'cast', 'skipEmptyLines'].includes(k)) notes.untranslated([...at, k], `payload key "${k}" not translated`);
    }
    const fields = Array.isArray(p.fields) ? p.fields.map(String) : [];
    const skipHeader = p.skipHeader === true || p.skipHeader === 'true';
    const delimiter = typeof p.delimiter === 'string' && p.delimiter !== '' ? p.delimiter : ',';
    const source = resolve(places.scriptDir, p.path);
    let rows: string[][];
    try {
      rows = readRows(source, delimiter);
    } catch (err) {
      return notes.untranslated([...at, 'path'], `cannot read ${p.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the payload is left out, so templates that use its fields will not validate`);
    }
    result.sources.push(source);
    const header = skipHeader ? rows[0] ?? [] : [];
    const body = skipHeader ? rows.slice(1) : rows;
    const names = fields.length > 0 ? fields : header;
    if (names.length === 0) return notes.untranslated(at, 'a payload without fields and without skipHeader has no column names; left out');
    const loadAll = p.loadAll === true || p.loadAll === 'true';
    let name = identifier(typeof p.name === 'string' && p.name !== '' ? p.name : basename(p.path, extname(p.path)));
    while (taken.has(name)) name += '_';
    taken.add(name);
    if (loadAll) {
      result.variables[name] = body.map((r) => Object.fromEntries(names.map((f, c) => [f, r[c] ?? ''])));
      notes.note(at, `loadAll: the ${body.length} rows of ${p.path} are written into variables.${name}`);
      return;
    }
    const usable = skipHeader && delimiter === ',' && header.length === names.length && header.every((h, c) => h.trim() === names[c]);
    let file = source;
    if (!usable) {
      const copy = resolve(places.outDir, `${basename(p.path, extname(p.path))}.scalectl.csv`);
      if (places.canWrite) {
        file = copy;
        result.copies[file] = [names, ...body].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
        notes.note([...at, 'path'], `scalectl's CSV feeders read column names from a header row: a copy of ${p.path} with the header "${names.join(',')}" is written to ${relative(places.outDir, copy)}`);
      } else {
        notes.untranslated([...at, 'path'], `scalectl's CSV feeders read column names from a header row, which ${p.path} lacks: run with -o to have a copy with the header "${names.join(',')}" written next to the scenario`);
      }
    }
    const order = p.order === 'sequence' ? 'sequential' : 'random';
    result.data[name] = { file: relative(places.outDir, file) || basename(file), order };
    for (const f of names) result.fields.set(f, `${name}.${f}`);
  });
  return result;
}
