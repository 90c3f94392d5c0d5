// Where the machine's CPU went during one measurement: the target's process
// tree, this benchmark's own process tree (the generator under test: autocannon
// in this process, or a scalectl child once it has exited and been reaped), and
// everything else ("foreign": other jobs on the machine, which skew the figures).
// Linux /proc only; elsewhere the shares are undefined.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

let ticksPerSec;
function clockTicks() {
  if (ticksPerSec === undefined) {
    try {
      ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

/** Fields of /proc/<pid>/stat after the command name. */
function statFields(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** CPU ms of a process: its own, plus that of its children it has reaped when `reaped`. */
function processCpuMs(pid, reaped) {
  // After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based, man 5 proc).
  const f = statFields(pid).map(Number);
  const ticks = f[11] + f[12] + (reaped ? f[13] + f[14] : 0);
  return (ticks / clockTicks()) * 1000;
}

/** CPU ms of a live process and its live descendants (nginx: master and worker). */
function treeCpuMs(pid) {
  let ms = processCpuMs(pid, false);
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch { /* no children file: count the process alone */ }
  for (const c of children) {
    try { ms += treeCpuMs(Number(c)); } catch { /* exited meanwhile */ }
  }
  return ms;
}

function machineBusyMs() {
  return cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

function snapshot(targetPid) {
  return {
    at: performance.now(),
    machine: machineBusyMs(),
    target: targetPid ? treeCpuMs(targetPid) : 0,
    self: processCpuMs(process.pid, true),
  };
}

/**
 * Starts measuring; the returned function stops and gives each share as a
 * percentage of one core over the elapsed wall time (100 = one core busy).
 */
export function startCpuMeter(targetPid) {
  let a;
  try {
    a = snapshot(targetPid);
  } catch {
    return () => ({});
  }
  return () => {
    try {
      const b = snapshot(targetPid);
      const pct = (ms) => Math.round((ms / (b.at - a.at)) * 1000) / 10;
      const target = b.target - a.target;
      const generator = b.self - a.self;
      return { targetPct: pct(target), generatorPct: pct(generator), foreignPct: Math.max(0, pct(b.machine - a.machine - target - generator)) };
    } catch {
      return {};
    }
  };
}
