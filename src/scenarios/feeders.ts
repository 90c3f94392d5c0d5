import { extname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { MAX_DATA_FILE_BYTES, readTextFileBytes } from './read-text-file.js';
import { printable } from '../shared/printable.js';

/** Rows of a data feeder, loaded and checked. */
export interface FeederData {
  order: 'sequential' | 'random';
  rows: Record<string, unknown>[];
  /** Column names (CSV header, or keys seen in JSON rows). */
  columns: string[];
}

/**
 * Loads a CSV (header row required) or JSON (array of objects) feeder file,
 * relative to the scenario's folder, of at most MAX_DATA_FILE_BYTES (UTF-8, or
 * UTF-16 with a byte-order mark). Throws an Error with a one-line message.
 * `bytes`: the file as read (for the scenario's hash).
 */
export async function loadFeederRows(file: string, baseDir: string): Promise<{ rows: Record<string, unknown>[]; columns: string[]; bytes: Uint8Array }> {
  const path = resolve(baseDir, file);
  let text: string;
  let bytes: Uint8Array;
  try {
    ({ text, bytes } = await readTextFileBytes(path, MAX_DATA_FILE_BYTES));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  let rows: Record<string, unknown>[];
  if (extname(path).toLowerCase() === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${path}: invalid JSON: ${printable((err as Error).message, 120)}`);
    }
    if (!Array.isArray(data) || !data.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
      throw new Error(`${path}: expected a JSON array of objects`);
    }
    rows = data as Record<string, unknown>[];
  } else {
    try {
      rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, unknown>[];
    } catch (err) {
      throw new Error(`${path}: invalid CSV: ${printable((err as Error).message.split('\n')[0]!, 120)}`);
    }
  }
  if (rows.length === 0) throw new Error(`${path}: has no data rows`);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return { rows, columns, bytes };
}
