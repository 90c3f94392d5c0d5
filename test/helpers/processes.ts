import { readdir, readFile } from 'node:fs/promises';

/** The live children of `pid` with their command names, from /proc (Linux). */
export async function childrenOf(pid: number): Promise<{ pid: number; comm: string }[]> {
  const found: { pid: number; comm: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ")".
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === pid && state !== 'Z') found.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return found;
}
