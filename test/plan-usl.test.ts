import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uslThroughput } from '../src/analyzers/usl.js';
import { planUslCommand } from '../src/commands/plan-usl.js';
import { ExitCode } from '../src/exit-codes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = (name: string): Promise<string> => readFile(new URL(`./fixtures/usl/${name}`, import.meta.url), 'utf8');

/** Writes `text` as data.csv (unless null) and runs the command in-process. */
async function planUsl(text: string | null, opts: { json?: boolean; file?: string } = {}) {
  const file = opts.file ?? 'data.csv';
  if (text !== null) await writeFile(join(dir, file), text);
  let stdout = '';
  let stderr = '';
  const code = await planUslCommand({ input: file, json: opts.json }, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: {},
    cwd: dir,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

const csv = (rows: [number, number][]): string => ['concurrency,throughput', ...rows.map((r) => r.join(','))].join('\n') + '\n';

describe('scalectl plan usl --json', () => {
  it('prints one JSON object with the coefficients, their errors and intervals, the peak and the points', async () => {
    const r = await planUsl(await fixture('specsdm91.csv'), { json: true });
    expect(r).toMatchObject({ code: ExitCode.ok, stderr: '' });
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual([
      'sigma', 'kappa', 'lambda', 'stdErrors', 'ci95', 'r2', 'sse', 'dof', 'pointCount', 'points',
      'maxMeasuredConcurrency', 'peakConcurrency', 'peakThroughput', 'peakBounded',
    ]);
    // The R package usl's fit of the same data (see src/analyzers/usl.test.ts).
    expect(j).toMatchObject({
      sigma: expect.closeTo(0.0277285, 6), kappa: expect.closeTo(0.0001044, 6), lambda: expect.closeTo(89.9952, 3),
      r2: expect.closeTo(0.9896, 4), dof: 4, pointCount: 7, maxMeasuredConcurrency: 216,
      peakConcurrency: expect.closeTo(96.52, 2), peakThroughput: expect.closeTo(1883.9, 1), peakBounded: true,
    });
    const se = j.stdErrors as { kappa: number };
    const ci = j.ci95 as { kappa: [number, number] };
    expect(se.kappa).toBeCloseTo(0.0000199, 6);
    expect(ci.kappa[0]).toBeLessThan(j.kappa as number);
    expect(ci.kappa[1]).toBeGreaterThan(j.kappa as number);
    const points = j.points as { concurrency: number; throughput: number; modelled: number }[];
    expect(points).toHaveLength(7);
    expect(points[3]).toEqual({ concurrency: 72, throughput: 1853.2, modelled: expect.closeTo(1850.1, 1) });
  });

  it('has no Infinity: a peak that does not exist is null with peakBounded false', async () => {
    const ray = JSON.parse((await planUsl(await fixture('raytracer.csv'), { json: true })).stdout) as Record<string, number | null | boolean>;
    expect(ray).toMatchObject({ kappa: 0, peakConcurrency: null, peakBounded: false });
    expect(ray.peakThroughput).toBeCloseTo((ray.lambda as number) / (ray.sigma as number), 6);
    const linear = JSON.parse((await planUsl(csv([[1, 10], [2, 20], [4, 40], [8, 80]]), { json: true })).stdout) as Record<string, unknown>;
    expect(linear).toMatchObject({ sigma: 0, kappa: 0, peakConcurrency: null, peakThroughput: null, peakBounded: false });
  });

  it('with 3 points the standard errors and intervals are null', async () => {
    const exact = [1, 10, 40].map((n): [number, number] => [n, uslThroughput({ sigma: 0.05, kappa: 0.001, lambda: 20 }, n)]);
    const j = JSON.parse((await planUsl(csv(exact), { json: true })).stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ dof: 0, stdErrors: { sigma: null, kappa: null, lambda: null }, ci95: { sigma: null, kappa: null, lambda: null } });
  });
});

describe('scalectl plan usl', () => {
  it('prints the coefficients with errors, R², the peak and measured against modelled', async () => {
    const r = await planUsl(await fixture('specsdm91.csv'));
    expect(r).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(r.stdout).toMatch(/fitted to data\.csv: 7 points, concurrency up to 216/);
    expect(r.stdout).toMatch(/│ sigma \(contention\) +│ 0\.02773 +│ 9\.122e-3 +│ 2\.402e-3 to 0\.05305 +│/);
    expect(r.stdout).toMatch(/│ kappa \(coherency\) +│ 1\.044e-4 +│ 1\.988e-5 +│/);
    expect(r.stdout).toMatch(/│ lambda \(throughput at N = 1\) +│ 90\.00 +│ 14\.21 +│/);
    expect(r.stdout).toMatch(/R² 0\.9896, residual standard error 82\.85 on 4 degrees of freedom/);
    expect(r.stdout).toMatch(/peak throughput 1884 at N\* = 96\.52/);
    expect(r.stdout).toMatch(/│ 72 +│ 1853\.2 +│ 1850\.1 +│ -0\.2% +│/);
  });

  it('says when there is no peak', async () => {
    expect((await planUsl(await fixture('raytracer.csv'))).stdout).toMatch(/no peak \(kappa = 0\): throughput keeps rising, towards lambda\/sigma = 378\.2/);
    expect((await planUsl(csv([[1, 10], [2, 20], [4, 40]]))).stdout).toMatch(/no peak \(kappa = 0, sigma = 0\): throughput keeps rising linearly/);
  });

  it('reads columns in any order and case, extra columns, spaces, blank lines, comments, CRLF and a BOM', async () => {
    const plain = JSON.parse((await planUsl(await fixture('no-single-client.csv'), { json: true })).stdout) as Record<string, number>;
    const messy = '\uFEFF# measured 2024-05-01\r\nrun, Throughput ,CONCURRENCY\r\n\r\na, 22.7, 2\r\nb,45.4,4\r\n  \r\n' +
      'c,76.9,8 # warm\r\nd,109.3,12\r\ne,100.0,16\r\nf,137.6,20\r\ng,143.2,24\r\nh,145.3,30\r\n';
    const r = await planUsl(messy, { json: true });
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as Record<string, number>;
    for (const k of ['sigma', 'kappa', 'lambda', 'sse']) expect(j[k]).toBeCloseTo(plain[k]!, 9);
  });
});

describe('scalectl plan usl: input it cannot use exits 3 with one line naming the line', () => {
  const header = 'concurrency,throughput\n';
  it.each([
    ['a throughput that is not a number', `${header}1,10\n2,19\n4,abc\n`, 'data.csv:4: throughput "abc" is not a number'],
    ['a missing column', 'n,x\n1,10\n2,19\n4,30\n', 'data.csv:1: missing column "concurrency" (header has: n, x)'],
    ['one of the two columns missing', 'concurrency,x\n1,10\n', 'data.csv:1: missing column "throughput" (header has: concurrency, x)'],
    ['a repeated column', 'concurrency,throughput,throughput\n1,2,3\n', 'data.csv:1: column "throughput" appears twice'],
    ['the header after comments and blank lines', '# runs of 2024-05-01\n\nconcurrency;throughput\n1;10\n', 'data.csv:3: missing column "concurrency" (header has: concurrency;throughput)'],
    ['a negative concurrency', `${header}1,10\n-2,19\n4,30\n`, 'data.csv:3: concurrency "-2" must be greater than 0'],
    ['a zero throughput', `${header}1,10\n2,0\n4,30\n`, 'data.csv:3: throughput "0" must be greater than 0'],
    ['an empty value', `${header}1,10\n2,\n4,30\n`, 'data.csv:3: throughput is empty'],
    ['a short row', `${header}1,10\n2\n4,30\n`, 'data.csv:3: no throughput value (the row has 1 field)'],
    ['an infinite value', `${header}1,10\n2,1e999\n4,30\n`, 'data.csv:3: throughput "1e999" is too large'],
    ['a hexadecimal value', `${header}1,10\n0x2,19\n4,30\n`, 'data.csv:3: concurrency "0x2" is not a number'],
    ['an unclosed quote', `${header}1,10\n2,"19\n4,30\n`, 'data.csv:4: not valid CSV: a quote is still open at the end of the file'],
    ['a stray quote', `${header}1,10\n2,1"9\n4,30\n`, 'data.csv:3: not valid CSV: a quote in the middle of a value'],
    ['a line number past comments', `# a\n# b\n${header}1,10\n# c\n2,ten\n`, 'data.csv:6: throughput "ten" is not a number'],
    ['fewer than 3 distinct concurrency values', `${header}1,10\n2,19\n2,20\n1,11\n`, 'data.csv: the USL needs at least 3 distinct concurrency values, found 2 (1, 2)'],
    ['no data rows', header, 'data.csv: the USL needs at least 3 distinct concurrency values, found none'],
    ['an empty file', '', 'data.csv: no header line (expected columns "concurrency" and "throughput")'],
  ])('%s', async (_what, text, message) => {
    const r = await planUsl(text);
    expect(r).toEqual({ code: ExitCode.invalidInput, stdout: '', stderr: `scalectl: ${message}\n` });
  });

  it('a file that cannot be read', async () => {
    const r = await planUsl(null, { file: 'missing.csv' });
    expect(r).toEqual({ code: ExitCode.invalidInput, stdout: '', stderr: 'scalectl: missing.csv: cannot read: no such file\n' });
    const d = await planUsl(null, { file: '.' });
    expect(d).toMatchObject({ code: ExitCode.invalidInput, stderr: 'scalectl: .: cannot read: is a directory\n' });
  });

  it('an empty --input is a usage error (exit 2)', async () => {
    expect(await planUsl(null, { file: ' ' })).toMatchObject({ code: ExitCode.usage, stderr: 'scalectl: --input needs a CSV file name\n' });
  });
});
