import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, open, readlink, realpath, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { ExitCode, usageError, type ExitCodeValue } from '../exit-codes.js';
import type { OutStream } from './io.js';
import { printable } from '../shared/printable.js';

/** "ENOSPC no space left on device": the OS's name and words for why a file operation failed. */
export function osReason(err: unknown): string {
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  const known = typeof e?.errno === 'number' ? getSystemErrorMap().get(e.errno) : undefined;
  if (known) return `${known[0]} ${known[1]}`;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}

/** Longest file name most filesystems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/** Longest path the OS takes (PATH_MAX, with its final NUL), in bytes. */
const PATH_MAX = 4096;
/** Symlinks followed before giving up, as Linux does (ELOOP). */
const MAX_LINKS = 40;

/** The temporary file's name: short and fixed in length, so any name the target may have, it may have too. */
function tempName(): string {
  return `.scalectl-${randomBytes(6).toString('hex')}.tmp`;
}
const TEMP_NAME_BYTES = tempName().length;

function eloop(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ELOOP: too many symbolic links encountered, '${path}'`), { code: 'ELOOP', errno: -40, path });
}

/**
 * The file a write to `path` lands in: symlinks followed, a dangling one
 * too (to the file it names, which the write creates). For a file that does
 * not exist yet, its folder's real path and its name; the path as given when
 * the folder is missing (the write then fails with ENOENT).
 */
export async function finalPath(path: string): Promise<string> {
  let p = resolve(path);
  for (let links = 0; ; links++) {
    try {
      return await realpath(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw err;
    }
    // There but with no name to resolve to: a pipe or socket behind /dev/stdout (/proc/self/fd/1 -> pipe:[...]).
    if (await stat(p).then(() => true, () => false)) return p;
    const dir = await realpath(dirname(p)).catch(() => undefined);
    if (dir === undefined) return p;
    const here = join(dir, basename(p));
    const link = await readlink(here).catch(() => undefined);
    if (link === undefined) return here;
    if (links >= MAX_LINKS) throw eloop(path);
    p = resolve(dir, link);
  }
}

/**
 * Writes `text` to `path` so that readers see the old file or the whole new
 * one, never a part: a temporary file in the same folder, flushed, then
 * renamed over the target. On failure the temporary file is removed and the
 * error thrown. A symlink is followed, a dangling one too: the file it names
 * is replaced (or created) and the link kept. Two cases are written in place,
 * as there is no folder to rename in, and may be left part-written when the
 * write fails: a device or pipe (`/dev/stdout`), and an existing writable
 * file in a folder where no new file may be created.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const target = await finalPath(path);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) return writeFile(target, text);
  const temp = join(dirname(target), tempName());
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

/**
 * Fails (exit 2) before any work when `target` (the final path of what the
 * user gave) could not be written: a directory, a name too long for the
 * filesystem, or a folder that is missing or read-only.
 */
async function checkWritable(target: string, shown: string, flag: string): Promise<void> {
  const s = await stat(target).catch(() => undefined);
  if (s?.isDirectory()) throw usageError(`${flag} ${shown}: is a directory`);
  const nameBytes = Buffer.byteLength(basename(target));
  if (nameBytes > NAME_MAX) throw usageError(`${flag} ${shown}: file name too long (${nameBytes} bytes; at most ${NAME_MAX})`);
  if (Buffer.byteLength(dirname(target)) + 1 + Math.max(nameBytes, TEMP_NAME_BYTES) >= PATH_MAX) {
    throw usageError(`${flag} ${shown}: path too long (at most ${PATH_MAX - 1} bytes)`);
  }
  try {
    await access(s ? target : dirname(target), constants.W_OK);
  } catch (err) {
    throw usageError(`${flag} ${shown}: not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The files a scenario reads besides itself: data feeders (`data: { users: { file: users.csv } }`) and TLS files (`defaults.tls`), relative to the scenario file. */
export function dataFilesOf(scenario: { data: Readonly<Record<string, { file: string }>>; defaults?: { tls?: { ca?: string; cert?: string; key?: string } } }, scenarioPath: string): string[] {
  const tls = scenario.defaults?.tls;
  const files = [...Object.values(scenario.data).map((d) => d.file), ...[tls?.ca, tls?.cert, tls?.key].filter((f) => f !== undefined)];
  return files.map((f) => resolve(dirname(scenarioPath), f));
}

/** Where each of `paths` (absolute) leads; a path that cannot be followed stands for itself. */
function targetsOf(paths: readonly string[]): Promise<string[]> {
  return Promise.all(paths.map((p) => finalPath(p).catch(() => p)));
}

interface Output {
  /** As the user gave it, for messages. */
  given: string;
  path: string;
  /** Where a write lands: symlinks followed (finalPath). */
  target: string;
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
    const inputTargets = await targetsOf(inputs.map((i) => resolve(io.cwd, i)));
    for (const [flag, given] of Object.entries(flags)) {
      if (given === undefined) continue;
      // An empty value (say "$UNSET" in CI) must not silently write nothing.
      if (given.trim() === '') throw usageError(`${flag} needs a file name`);
      const path = resolve(io.cwd, given);
      // Where the write would land: two names for one file (a symlink, a/../b) are caught too.
      const target = await finalPath(path).catch((err: unknown) => {
        throw usageError(`${flag} ${path}: not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      });
      const other = [...files].find(([, f]) => f.target === target);
      if (other) throw usageError(`${flag} ${given}: the same file as ${other[0]}`);
      if (inputTargets.includes(target)) throw usageError(`${flag} ${given}: that is the input file`);
      await checkWritable(target, path, flag);
      files.set(flag, { given, path, target });
    }
    return new OutputFiles(files, io.stderr);
  }

  /**
   * Refuses (exit 2) an output that would replace one of `inputs` (absolute
   * paths), e.g. a data file named in the scenario, known once it is read.
   * `what` names them in the message: `--out users.csv: that is <what>`.
   */
  async refuseInputs(inputs: readonly string[], what: string): Promise<void> {
    const targets = await targetsOf(inputs);
    for (const [flag, f] of this.files) if (targets.includes(f.target)) throw usageError(`${flag} ${f.given}: that is ${what}`);
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
