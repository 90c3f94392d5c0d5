import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, open, realpath, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { ExitCode, usageError, type ExitCodeValue } from '../exit-codes.js';
import type { OutStream } from './io.js';
import { printable } from '../scenarios/printable.js';

/** "ENOSPC no space left on device": the OS's name and words for why a file operation failed. */
export function osReason(err: unknown): string {
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  const known = typeof e?.errno === 'number' ? getSystemErrorMap().get(e.errno) : undefined;
  if (known) return `${known[0]} ${known[1]}`;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Writes `text` to `path` so that readers see the old file or the whole new
 * one, never a part: a temporary file in the same folder, flushed, then
 * renamed over the target. On failure the temporary file is removed and the
 * error thrown. A symlink is followed (its target is replaced, the link
 * kept); a device or pipe (`/dev/stdout`) is written in place, as there is
 * nothing to rename over, and so is a writable file in a folder where no
 * new file may be created.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) return writeFile(target, text);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', existing ? existing.mode & 0o777 : 0o666).catch((err: NodeJS.ErrnoException) => {
      // A writable file in a folder where no file may be created (the check let it through): written in place, as before.
      if (existing && (err.code === 'EACCES' || err.code === 'EPERM')) return undefined;
      throw err;
    });
    if (!handle) return writeFile(target, text);
    await handle.writeFile(text);
    // Without it a crash soon after the rename can leave an empty file on some filesystems.
    await handle.datasync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

/** Fails (exit 2) before any work when `path` could not be written: a directory, or a folder that is missing or read-only. */
async function checkWritable(path: string, flag: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) throw usageError(`${flag} ${path}: is a directory`);
  try {
    await access(s ? path : dirname(path), constants.W_OK);
  } catch (err) {
    throw usageError(`${flag} ${path}: not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

interface Output {
  /** As the user gave it, for messages. */
  given: string;
  path: string;
}

/**
 * The files a command writes, each named by the flag that asked for it
 * (`--out`, `--html`, ...). `check` refuses bad paths before any work (exit
 * 2); `write` writes atomically and, when the OS refuses, says so in one
 * line naming the file and goes on, so the other outputs are still written
 * and the command's verdict still decides its exit code (`exitCode`).
 */
export class OutputFiles {
  private readonly failed = new Map<string, string>();

  private constructor(
    private readonly files: ReadonlyMap<string, Output>,
    private readonly stderr: OutStream,
  ) {}

  /**
   * Checks every given flag: a file name, not the same file as another
   * output or an input, in a writable folder. Flags whose value is
   * undefined were not given. Directories (`--emit-k8s`) are not checked here.
   */
  static async check(
    flags: Readonly<Record<string, string | undefined>>,
    io: { cwd: string; stderr: OutStream },
    inputs: readonly string[] = [],
  ): Promise<OutputFiles> {
    const files = new Map<string, Output>();
    const seen = new Map<string, string>(inputs.map((i) => [resolve(io.cwd, i), 'the input file']));
    for (const [flag, given] of Object.entries(flags)) {
      if (given === undefined) continue;
      // An empty value (say "$UNSET" in CI) must not silently write nothing.
      if (given.trim() === '') throw usageError(`${flag} needs a file name`);
      const path = resolve(io.cwd, given);
      const other = seen.get(path);
      if (other) throw usageError(`${flag} ${given}: ${other === 'the input file' ? 'that is the input file' : `the same file as ${other}`}`);
      seen.set(path, flag);
      await checkWritable(path, flag);
      files.set(flag, { given, path });
    }
    return new OutputFiles(files, io.stderr);
  }

  /** The absolute path the flag names, when it was given. */
  path(flag: string): string | undefined {
    return this.files.get(flag)?.path;
  }

  /**
   * Writes the flag's file (nothing when the flag was not given) and says
   * `<what> written to <file>` unless quiet. Returns false when it could not.
   */
  async write(flag: string, text: () => string, what: string, opts: { quiet?: boolean } = {}): Promise<boolean> {
    const file = this.files.get(flag);
    if (!file) return true;
    return this.writeFile(file.path, file.given, text(), opts.quiet ? undefined : what);
  }

  /** Writes each file into a folder (created when missing), e.g. `--emit-k8s dir/`. */
  async writeInto(dir: string, given: string, files: Readonly<Record<string, string>>, what: string): Promise<boolean> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      return this.report(given, err);
    }
    let ok = true;
    for (const [name, text] of Object.entries(files)) ok = (await this.writeFile(join(dir, name), join(given, name), text, undefined)) && ok;
    if (ok) this.stderr.write(`${what} written to ${printable(given)}: ${Object.keys(files).join(', ')}\n`);
    return ok;
  }

  /** True when the flag was given and its file's last write succeeded. */
  written(flag: string): boolean {
    const file = this.files.get(flag);
    return file !== undefined && !this.failed.has(file.given);
  }

  /** The verdict, unless it was a success and an output could not be written: then exit 8. */
  exitCode(verdict: ExitCodeValue): ExitCodeValue {
    return verdict === ExitCode.ok && this.failed.size > 0 ? ExitCode.outputFailed : verdict;
  }

  private async writeFile(path: string, given: string, text: string, what: string | undefined): Promise<boolean> {
    try {
      await writeFileAtomic(path, text);
    } catch (err) {
      return this.report(given, err);
    }
    this.failed.delete(given);
    if (what) this.stderr.write(`${what} written to ${printable(given)}\n`);
    return true;
  }

  /** One line per file and reason: a file rewritten as a run goes (capacity.json) does not repeat itself. */
  private report(given: string, err: unknown): false {
    const line = `scalectl: could not write ${printable(given)}: ${osReason(err)}`;
    if (this.failed.get(given) !== line) this.stderr.write(line + '\n');
    this.failed.set(given, line);
    return false;
  }
}
