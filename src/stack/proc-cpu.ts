import { readFile } from 'node:fs/promises';

/*
 * A process's CPU time read by the primary from /proc, without asking the
 * process. The HPA's samples must not depend on the measured worker
 * answering: an overloaded worker (the one the HPA exists for) may answer
 * IPC late or not at all, and would be left out of its own measurement.
 * Like the kubelet reading cgroup counters, this reads the kernel's.
 */

/**
 * Clock ticks per second of utime and stime in /proc/<pid>/stat: USER_HZ,
 * which Linux fixes at 100 for user space on every architecture it runs Node
 * on (`getconf CLK_TCK` prints 100 on the machines this was written on).
 * Node has no sysconf, so it is a constant.
 */
export const CLK_TCK = 100;

/** CPU seconds (user + system) in the text of /proc/<pid>/stat; undefined when it cannot be parsed. */
export function parseProcStat(text: string): number | undefined {
  // Field 2, the command name, is in parentheses and may itself hold spaces and ')': fields 3.. follow the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // Fields 14 (utime) and 15 (stime), 1-based in proc(5); fields[0] is field 3.
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  // Number(undefined) is NaN: a line too short fails here too.
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / CLK_TCK;
}

/** CPU seconds (user + system) used so far by process `pid` (or this one); undefined when it cannot be read (gone, or no /proc). */
export async function procCpuSeconds(pid: number | 'self'): Promise<number | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether this system has a readable /proc/<pid>/stat (Linux), tried on /proc/self. */
export async function hasProcStat(): Promise<boolean> {
  return (await procCpuSeconds('self')) !== undefined;
}
