import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/shop.js';
import { CLK_TCK, hasProcStat, parseProcStat, procCpuSeconds } from './proc-cpu.js';

// The stack's tests run on Linux (the HPA reads /proc there); these would fail elsewhere rather than be skipped.
describe('parseProcStat', () => {
  it('adds utime and stime (fields 14 and 15, in clock ticks), whatever the command name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime ...
    const stat = (comm: string) => `4242 (${comm}) R 1 4242 4242 0 -1 4194304 102 0 0 0 ${3 * CLK_TCK} ${CLK_TCK / 2} 7 9 20 0 1 0 436919`;
    expect(parseProcStat(stat('node'))).toBe(3.5);
    expect(parseProcStat(stat('a b) R 1 2'))).toBe(3.5);
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(parseProcStat('1 (x) R 1 2')).toBeUndefined();
  });

  it('uses the clock tick the system reports', () => {
    expect(Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())).toBe(CLK_TCK);
  });
});

describe('procCpuSeconds', () => {
  it('reads a busy child\'s CPU time without asking it, and nothing for a process that is gone', async () => {
    expect(await hasProcStat()).toBe(true);
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      const first = await procCpuSeconds(pid);
      expect(first).toBeGreaterThanOrEqual(0);
      await eventually(async () => ((await procCpuSeconds(pid)) ?? 0) > first! + 0.2, 30_000, 'the child uses CPU');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await eventually(async () => (await procCpuSeconds(child.pid!)) === undefined, 10_000, 'the child\'s /proc entry is gone');
  });
});
