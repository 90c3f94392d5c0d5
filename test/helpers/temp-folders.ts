import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Folders tempFiles made in this test file; test/helpers/cleanup.ts removes them after it. */
export const madeFolders: string[] = [];

/** Writes files into a fresh temporary folder; returns the folder. */
export async function tempFiles(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
  madeFolders.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
