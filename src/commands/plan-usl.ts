import { resolve } from 'node:path';
import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';
import { CsvError, parse } from 'csv-parse/sync';
import { fitUsl, UslDataError, uslThroughput, type UslFit, type UslPoint } from '../analyzers/usl.js';
import { ExitCode, inputError, usageError, UserError } from '../exit-codes.js';
import { colorsFor } from '../reporters/colors.js';
import type { CommandIO } from './io.js';
import { printable, printableLines } from '../shared/printable.js';
import { readTextFile, TextFileError } from '../scenarios/read-text-file.js';

/** Largest CSV read, bytes (16 MiB: a measurement per line is a few dozen bytes; a FIFO or a device is refused, not read). */
export const MAX_USL_CSV_BYTES = 16 * 1024 * 1024;

/** The flags of `scalectl plan usl`, as commander hands them over. */
export interface PlanUslOptions {
  /** CSV file, relative to the working directory. */
  input: string;
  /** Print one JSON object instead of the summary. */
  json?: boolean;
}

/** A measured point and the 1-based file line it came from. */
interface CsvPoint extends UslPoint {
  line: number;
}

/**
 * `scalectl plan usl --input data.csv [--json]`: fits the Universal Scalability
 * Law, X(N) = lambda·N / (1 + sigma·(N−1) + kappa·N·(N−1)), to measured
 * throughput by concurrency.
 *
 * The CSV needs a header line naming the columns `concurrency` and `throughput`
 * (any order, any case; other columns are ignored), then one row per
 * measurement, both values positive numbers. Blank lines and `#` comments are
 * skipped; a concurrency may repeat, but at least 3 distinct ones are needed.
 * Input that cannot be used prints one line, `scalectl: data.csv:LINE: what is
 * wrong`, and exits 3.
 *
 * `--json` prints one object: `sigma`, `kappa`, `lambda`, `stdErrors` and `ci95`
 * (95% intervals as `[low, high]`; both null per parameter with only 3 points),
 * `r2`, `sse`, `dof`, `pointCount`, `points` (`concurrency`, `throughput`,
 * `modelled`), `maxMeasuredConcurrency`, `peakConcurrency`, `peakThroughput` and
 * `peakBounded`. JSON has no Infinity: with kappa = 0 throughput never peaks, so
 * `peakConcurrency` is null and `peakBounded` false; `peakThroughput` is then
 * the asymptote lambda/sigma, or null when sigma = 0 too (linear scaling).
 */
export async function planUslCommand(opts: PlanUslOptions, io: CommandIO): Promise<number> {
  try {
    if (typeof opts.input !== 'string' || opts.input.trim() === '') throw usageError('--input needs a CSV file name');
    const points = await readUslCsv(opts.input, io.cwd);
    let fit: UslFit;
    try {
      fit = fitUsl(points);
    } catch (err) {
      if (err instanceof UslDataError) throw inputError(`${opts.input}: ${err.message}`);
      throw err;
    }
    io.stdout.write(opts.json ? JSON.stringify(uslJson(fit, points), null, 2) + '\n' : renderUsl(opts.input, fit, points, colorsFor(io.stdout, io.env)));
    return ExitCode.ok;
  } catch (err) {
    // Printed here rather than left to main(), so the command is complete when called on its own.
    if (!(err instanceof UserError)) throw err;
    io.stderr.write(`scalectl: ${printableLines(err.message)}\n`);
    return err.exitCode;
  }
}

const COLUMNS = ['concurrency', 'throughput'] as const;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Reads and checks the CSV; the first problem becomes an input error naming its line. */
async function readUslCsv(file: string, cwd: string): Promise<CsvPoint[]> {
  let text: string;
  try {
    text = await readTextFile(resolve(cwd, file), MAX_USL_CSV_BYTES);
  } catch (err) {
    throw inputError(`${file}: cannot read: ${err instanceof TextFileError ? err.message : String(err)}`);
  }
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    const options = { info: true, bom: true, trim: true, comment: '#', skip_empty_lines: true, relax_column_count: true } as const;
    rows = parse(text, options) as unknown as typeof rows;
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = typeof err.lines === 'number' ? `:${err.lines}` : '';
    const why = err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quote is still open at the end of the file'
      : err.code === 'INVALID_OPENING_QUOTE' ? 'a quote in the middle of a value'
        : err.message.replace(/ at line \d+/, '');
    throw inputError(`${file}${line}: not valid CSV: ${why}`);
  }
  const [header, ...data] = rows;
  if (!header) throw inputError(`${file}: no header line (expected columns "concurrency" and "throughput")`);
  const names = header.record.map((h) => h.toLowerCase());
  const index = {} as Record<(typeof COLUMNS)[number], number>;
  for (const col of COLUMNS) {
    const at = names.indexOf(col);
    if (at < 0) throw inputError(`${file}:${header.info.lines}: missing column "${col}" (header has: ${header.record.join(', ')})`);
    if (names.lastIndexOf(col) !== at) throw inputError(`${file}:${header.info.lines}: column "${col}" appears twice`);
    index[col] = at;
  }
  const points = data.map(({ record, info }) => {
    const where = `${file}:${info.lines}`;
    const value = (col: (typeof COLUMNS)[number]): number => {
      const raw = record[index[col]];
      if (raw === undefined) throw inputError(`${where}: no ${col} value (the row has ${record.length} field${record.length === 1 ? '' : 's'})`);
      if (raw === '') throw inputError(`${where}: ${col} is empty`);
      if (!NUMBER.test(raw)) throw inputError(`${where}: ${col} "${raw}" is not a number`);
      const v = Number(raw);
      if (!Number.isFinite(v)) throw inputError(`${where}: ${col} "${raw}" is too large`);
      if (v <= 0) throw inputError(`${where}: ${col} "${raw}" must be greater than 0`);
      return v;
    };
    return { n: value('concurrency'), x: value('throughput'), line: info.lines };
  });
  const distinct = [...new Set(points.map((p) => p.n))].sort((a, b) => a - b);
  if (distinct.length < 3) {
    const found = distinct.length ? `${distinct.length} (${distinct.join(', ')})` : 'none';
    throw inputError(`${file}: the USL needs at least 3 distinct concurrency values, found ${found}`);
  }
  return points;
}

/** The --json object: Infinity becomes null (see planUslCommand). */
function uslJson(fit: UslFit, points: readonly CsvPoint[]): Record<string, unknown> {
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return {
    sigma: fit.sigma,
    kappa: fit.kappa,
    lambda: fit.lambda,
    stdErrors: fit.stdErrors,
    ci95: fit.ci95,
    r2: fit.r2,
    sse: fit.sse,
    dof: fit.dof,
    pointCount: fit.pointCount,
    points: points.map((p) => ({ concurrency: p.n, throughput: p.x, modelled: uslThroughput(fit, p.n) })),
    maxMeasuredConcurrency: fit.maxMeasuredN,
    peakConcurrency: finite(fit.peakConcurrency),
    peakThroughput: finite(fit.peakThroughput),
    peakBounded: Number.isFinite(fit.peakConcurrency),
  };
}

/** Four significant digits (whole numbers from 10,000); exponent form below 0.01. */
function sig(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e4 ? String(Math.round(v)) : a >= 0.01 ? v.toPrecision(4) : v.toExponential(3);
}

const table = (head: string[]): Table.Table => new Table({ head, style: { head: [], border: [], compact: true } });

/** The human summary: coefficients, fit quality, the peak, measured against modelled. */
function renderUsl(file: string, fit: UslFit, points: readonly CsvPoint[], c: ChalkInstance): string {
  const out: string[] = [];
  out.push(c.bold(`Universal Scalability Law fitted to ${printable(file)}: ${fit.pointCount} points, concurrency up to ${fit.maxMeasuredN}`));
  const params = table(['coefficient', 'estimate', 'std error', '95% interval']);
  const rows = [['sigma', 'contention'], ['kappa', 'coherency'], ['lambda', 'throughput at N = 1']] as const;
  for (const [k, what] of rows) {
    const se = fit.stdErrors[k];
    const ci = fit.ci95[k];
    params.push([`${k} (${what})`, sig(fit[k]), se === null ? '–' : sig(se), ci === null ? '–' : `${sig(ci[0])} to ${sig(ci[1])}`]);
  }
  out.push(params.toString());
  if (fit.dof === 0) out.push(c.dim('  no standard errors: 3 points leave no degrees of freedom'));
  const rse = fit.dof > 0 ? `, residual standard error ${sig(Math.sqrt(fit.sse / fit.dof))} on ${fit.dof} degrees of freedom` : '';
  out.push(`R² ${fit.r2.toFixed(4)}${rse}`);
  out.push(peakLine(fit, c));
  const t = table(['concurrency', 'measured', 'modelled', 'difference']);
  for (const p of points) {
    const m = uslThroughput(fit, p.n);
    t.push([String(p.n), String(p.x), String(Number(m.toPrecision(5))), `${m >= p.x ? '+' : ''}${((m / p.x - 1) * 100).toFixed(1)}%`]);
  }
  out.push(t.toString());
  return out.join('\n') + '\n';
}

function peakLine(fit: UslFit, c: ChalkInstance): string {
  if (!Number.isFinite(fit.peakConcurrency)) {
    return Number.isFinite(fit.peakThroughput)
      ? `no peak (kappa = 0): throughput keeps rising, towards lambda/sigma = ${sig(fit.peakThroughput)}`
      : 'no peak (kappa = 0, sigma = 0): throughput keeps rising linearly';
  }
  const peak = `peak throughput ${sig(fit.peakThroughput)} at N* = ${sig(fit.peakConcurrency)}; beyond it throughput falls`;
  if (fit.peakConcurrency > 2 * fit.maxMeasuredN) return `${peak}\n${c.yellow(`warning: N* is beyond twice the largest measured concurrency (${fit.maxMeasuredN}): an extrapolation`)}`;
  return peak;
}
