import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** Largest scenario file read, bytes (1 MiB: a scenario is a page or two of YAML). */
export const MAX_SCENARIO_BYTES = 1024 * 1024;
/** Largest data (feeder) file read, bytes (64 MiB: every row is held in memory by each engine worker). */
export const MAX_DATA_FILE_BYTES = 64 * 1024 * 1024;

/** A file that cannot be used as text input; the message is one line, without the path. */
export class TextFileError extends Error {}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function kind(s: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (s.isDirectory()) return 'is a directory';
  if (s.isFIFO()) return 'is a pipe (FIFO), not a regular file';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'is a device, not a regular file';
  if (s.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

const ERRNO: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'a folder in the path is a file' };

/**
 * Decodes a file's bytes: UTF-8 (a byte-order mark is dropped) or UTF-16
 * with a byte-order mark (what Windows editors and PowerShell's `>` write).
 * Anything else (NUL bytes, invalid UTF-8) is refused, never guessed.
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new TextFileError(`holds a NUL byte (at byte ${nul}): it is binary, or UTF-16 without a byte-order mark; save it as UTF-8`);
  try {
    // ignoreBOM: false (the default) drops a leading UTF-8 byte-order mark.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TextFileError('is not UTF-8 text; save it as UTF-8');
  }
}

/**
 * Reads a text file of at most maxBytes. A FIFO, a device or a directory is
 * refused before it is read (opening a FIFO for reading blocks until a writer
 * comes; /dev/zero never ends). Throws TextFileError with a one-line reason.
 */
export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  return (await readTextFileBytes(path, maxBytes)).text;
}

/** readTextFile, with the bytes it decoded (for a hash of exactly what was read). */
export async function readTextFileBytes(path: string, maxBytes: number): Promise<{ text: string; bytes: Uint8Array }> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new TextFileError(ERRNO[code] ?? (code || String(err)));
  }
  if (!info.isFile()) throw new TextFileError(kind(info));
  if (info.size > maxBytes) throw new TextFileError(`is over the limit of ${size(maxBytes)} (${info.size} bytes)`);
  // O_NONBLOCK: should the path have become a FIFO since stat, open returns at once (and fstat refuses it).
  const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((err: NodeJS.ErrnoException) => {
    throw new TextFileError(ERRNO[err.code ?? ''] ?? err.code ?? String(err));
  });
  try {
    const again = await fh.stat();
    if (!again.isFile()) throw new TextFileError(kind(again));
    // Read at most one byte past the limit: a file that grew since stat is still bounded.
    const buf = Buffer.alloc(Math.min(maxBytes, again.size) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    if (n > maxBytes) throw new TextFileError(`is over the limit of ${size(maxBytes)}`);
    if (n > again.size) throw new TextFileError('grew while it was being read; try again');
    const bytes = buf.subarray(0, n);
    return { text: decodeText(bytes), bytes };
  } finally {
    await fh.close();
  }
}
