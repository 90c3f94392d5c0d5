import { access, constants, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { usageError } from '../exit-codes.js';

/** Fails (exit 2) before any work when `path` could not be written: a directory, or a folder that is missing or read-only. */
export async function checkWritable(path: string, flag: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) throw usageError(`${flag} ${path}: is a directory`);
  try {
    await access(s ? path : dirname(path), constants.W_OK);
  } catch (err) {
    throw usageError(`${flag} ${path}: not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
