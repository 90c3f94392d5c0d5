import { mkdirSync, rmSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { OutputFiles, writeFileAtomic } from '../src/commands/output-files.js';
import { ExitCode } from '../src/exit-codes.js';
import { tempFiles } from './helpers/cli.js';
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
