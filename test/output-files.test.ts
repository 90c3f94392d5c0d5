import { mkdirSync, rmSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { open as openFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { OutputFiles, writeFileAtomic } from '../src/commands/output-files.js';
import { ExitCode } from '../src/exit-codes.js';
import { BIN, runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

/**
 * Runs the CLI in-process; when the run announces its load (after the
 * output checks, before any file is written), `sabotage` breaks outputs.
 */
async function runAndBreak(argv: string[], cwd: string, sabotage: () => void): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        if (s.startsWith('running ')) sabotage();
        stderr += s;
      },
    },
    env: {}, cwd, signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

const scenario = (thresholds: string): string =>
  `name: outs\ntarget: ${server.url}\nphases: [{ duration: 1s, arrivalRate: 5 }]\nflows: [{ name: f, steps: [{ get: /ok }] }]\nthresholds: [${thresholds}]\n`;

describe('an output that cannot be written after the run', () => {
  it('is one line naming the file and the reason; the other outputs are written; no partial or temporary file; exit 8 for a passing run', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('"p99 < 10s"') });
    await mkdir(join(dir, 'sub'));
    const r = await runAndBreak(['run', 's.yaml', '--no-progress', '--out', 'r.json', '--html', 'r.html', '--junit', 'sub/junit.xml', '--summary-md', 's.md'], dir, () => {
      mkdirSync(join(dir, 'r.html')); // the rename onto it fails: EISDIR
      rmSync(join(dir, 'sub'), { recursive: true }); // the temporary file cannot be made: ENOENT
    });
    expect(r.stdout).toMatch(/PASSED/);
    expect(r.code).toBe(ExitCode.outputFailed);
    const failures = r.stderr.split('\n').filter((l) => l.includes('could not write'));
    expect(failures).toEqual([
      'scalectl: could not write sub/junit.xml: ENOENT no such file or directory',
      'scalectl: could not write r.html: EISDIR illegal operation on a directory',
    ]);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // The outputs that could be written were, whole.
    expect(JSON.parse(await readFile(join(dir, 'r.json'), 'utf8'))).toMatchObject({ passed: true });
    expect(await readFile(join(dir, 's.md'), 'utf8')).toContain('PASSED');
    expect(await readdir(join(dir, 'r.html'))).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['r.html', 'r.json', 's.md', 's.yaml']);
  });

  it('does not hide a failed verdict: thresholds failed still exits 4', async () => {
    const dir = await tempFiles({ 's.yaml': scenario('"p50 < 1us"') });
    const r = await runAndBreak(['run', 's.yaml', '--no-progress', '--html', 'r.html'], dir, () => mkdirSync(join(dir, 'r.html')));
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    expect(r.stderr).toMatch(/^scalectl: could not write r\.html: EISDIR illegal operation on a directory$/m);
  });
});

describe('writeFileAtomic and OutputFiles', () => {
  it('a write error (ENOSPC on /dev/full) is one line naming the file, and exit 8 only for a success', async () => {
    let stderr = '';
    const outputs = await OutputFiles.check({ '--html': '/dev/full' }, { cwd: '/', stderr: { write: (s: string) => (stderr += s) } });
    expect(await outputs.write('--html', () => 'x'.repeat(100_000), 'HTML report')).toBe(false);
    expect(stderr).toBe('scalectl: could not write /dev/full: ENOSPC no space left on device\n');
    expect(outputs.exitCode(ExitCode.ok)).toBe(ExitCode.outputFailed);
    expect(outputs.exitCode(ExitCode.thresholdsFailed)).toBe(ExitCode.thresholdsFailed);
    expect(outputs.exitCode(ExitCode.aborted)).toBe(ExitCode.aborted);
  });

  it('replaces a file whole, keeps its mode, follows a symlink, and leaves no temporary file', async () => {
    const dir = await tempFiles({ 'a.json': 'old' });
    await chmod(join(dir, 'a.json'), 0o640);
    await symlink(join(dir, 'a.json'), join(dir, 'link.json'));
    await writeFileAtomic(join(dir, 'link.json'), 'new');
    expect(await readFile(join(dir, 'a.json'), 'utf8')).toBe('new');
    expect((await stat(join(dir, 'a.json'))).mode & 0o777).toBe(0o640);
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'link.json']);
    await expect(writeFileAtomic(join(dir, 'no', 'b'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses bad paths before any work: empty, a directory, two flags on one file, an input file (exit 2)', async () => {
    const dir = await tempFiles({ 'in.json': '{}' });
    const io = { cwd: dir, stderr: { write: () => undefined } };
    const refused = async (flags: Record<string, string>, inputs: string[] = []): Promise<string> =>
      OutputFiles.check(flags, io, inputs).then(() => 'accepted', (e: { message: string; exitCode: number }) => `${e.exitCode} ${e.message}`);
    expect(await refused({ '--out': ' ' })).toBe('2 --out needs a file name');
    expect(await refused({ '--out': '.' })).toBe(`2 --out ${dir}: is a directory`);
    expect(await refused({ '--out': 'a.json', '--html': './a.json' })).toBe('2 --html ./a.json: the same file as --out');
    expect(await refused({ '--html': 'in.json' }, ['in.json'])).toBe('2 --html in.json: that is the input file');
    expect(await refused({ '--out': 'no/such/r.json' })).toMatch(/^2 --out \S+no\/such\/r\.json: not writable \(ENOENT\)$/);
  });
});

describe('an output never replaces an input, whatever the name it is given', () => {
  it('run refuses --out on its own scenario file; run and capacity on a data file the scenario reads (exit 2, nothing written)', async () => {
    const dir = await tempFiles({
      's.yaml': scenario('"p99 < 10s"') + 'data: { users: { file: data/users.csv } }\n',
    });
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'users.csv'), 'id\n1\n');
    const self = await runCli(['run', 's.yaml', '--no-progress', '--out', './s.yaml'], { cwd: dir });
    expect([self.code, self.stderr]).toEqual([ExitCode.usage, 'scalectl: --out ./s.yaml: that is the input file\n']);
    const data = await runCli(['run', 's.yaml', '--no-progress', '--html', 'data/../data/users.csv'], { cwd: dir });
    expect([data.code, data.stderr]).toEqual([ExitCode.usage, 'scalectl: --html data/../data/users.csv: that is a data file of the scenario\n']);
    const capacity = await runCli(['capacity', 's.yaml', '--replicas', '1', '--out', 'data/users.csv'], { cwd: dir });
    expect([capacity.code, capacity.stderr]).toEqual([ExitCode.usage, 'scalectl: --out data/users.csv: that is a data file of the scenario\n']);
    expect(await readFile(join(dir, 's.yaml'), 'utf8')).toMatch(/^name: outs/);
    expect(await readFile(join(dir, 'data', 'users.csv'), 'utf8')).toBe('id\n1\n');
  });

  it('compares the files a write lands in: a symlink to the input, or to another output, is refused', async () => {
    const dir = await tempFiles({ 'in.json': '{}' });
    await symlink('in.json', join(dir, 'alias.json'));
    await symlink(join(dir, 'new.html'), join(dir, 'dangling.html')); // names a file not made yet
    const io = { cwd: dir, stderr: { write: () => undefined } };
    const refused = async (flags: Record<string, string>, inputs: string[] = []): Promise<string> =>
      OutputFiles.check(flags, io, inputs).then(() => 'accepted', (e: { message: string; exitCode: number }) => `${e.exitCode} ${e.message}`);
    expect(await refused({ '--html': 'alias.json' }, ['in.json'])).toBe('2 --html alias.json: that is the input file');
    expect(await refused({ '--html': 'in.json' }, ['alias.json'])).toBe('2 --html in.json: that is the input file');
    expect(await refused({ '--out': 'new.html', '--html': 'dangling.html' })).toBe('2 --html dangling.html: the same file as --out');
    const report = await runCli(['report', 'in.json', '--html', 'alias.json'], { cwd: dir });
    expect([report.code, report.stderr]).toEqual([ExitCode.usage, 'scalectl: --html alias.json: that is the input file\n']);
    expect(await readFile(join(dir, 'in.json'), 'utf8')).toBe('{}');
  });
});

describe('file names and links', () => {
  it('a name too long for the filesystem is refused before any work; one that fits is written (the temporary name is short)', async () => {
    const dir = await tempFiles({});
    const io = { cwd: dir, stderr: { write: () => undefined } };
    const long = 'é'.repeat(128) + '.json'; // 261 bytes in UTF-8, 133 characters
    await expect(OutputFiles.check({ '--out': long }, io)).rejects.toMatchObject({
      exitCode: ExitCode.usage,
      message: `--out ${join(dir, long)}: file name too long (261 bytes; at most 255)`,
    });
    const fits = 'r'.repeat(250) + '.json'; // 255 bytes
    await OutputFiles.check({ '--out': fits }, io);
    await writeFileAtomic(join(dir, fits), 'whole');
    expect(await readdir(dir)).toEqual([fits]);
    expect(await readFile(join(dir, fits), 'utf8')).toBe('whole');
  });

  it('a dangling symlink is followed: the file it names is created and the link kept', async () => {
    const dir = await tempFiles({});
    await mkdir(join(dir, 'real'));
    await symlink('real/r.json', join(dir, 'r.json'));
    await OutputFiles.check({ '--out': 'r.json' }, { cwd: dir, stderr: { write: () => undefined } });
    await writeFileAtomic(join(dir, 'r.json'), 'new');
    expect((await lstat(join(dir, 'r.json'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'r.json'))).toBe('real/r.json');
    expect(await readFile(join(dir, 'real', 'r.json'), 'utf8')).toBe('new');
    expect(await readdir(join(dir, 'real'))).toEqual(['r.json']);
  });
});

/** Runs the built CLI with its standard output sent to `stdout`: a file opened here, or a pipe closed at once (its reader gone). */
async function binTo(argv: string[], stdout: '/dev/full' | 'closed pipe'): Promise<{ code: number | null; stderr: string }> {
  const full = stdout === '/dev/full' ? await openFile('/dev/full', 'w') : undefined;
  try {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', full ? full.fd : 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    // Closed long before the child has loaded and prints: its writes get EPIPE.
    child.stdout?.destroy();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    return { code, stderr };
  } finally {
    await full?.close();
  }
}

describe('standard output that cannot be written', () => {
  const erlang = ['plan', 'erlang', '--arrival-rate', '10', '--service-time', '100ms'];

  it('is one line on stderr; a success exits 8, another verdict is kept; a reader that went away is harmless', async () => {
    const feasible = [...erlang, '--target-wait', '20ms', '--service-level', '80%'];
    const [ok, infeasible, gone] = await Promise.all([
      binTo(feasible, '/dev/full'),
      binTo([...erlang, '--latency-slo', '1ms', '--percentile', 'p99'], '/dev/full'),
      binTo(feasible, 'closed pipe'),
    ]);
    expect(ok).toEqual({ code: ExitCode.outputFailed, stderr: 'scalectl: could not write to standard output: ENOSPC no space left on device\n' });
    expect(infeasible.code).toBe(ExitCode.thresholdsFailed);
    expect(infeasible.stderr).toMatch(/^scalectl: could not write to standard output: ENOSPC no space left on device$/m);
    expect(gone).toEqual({ code: ExitCode.ok, stderr: '' });
  });
});
