// Where the machine's CPU went during one measurement: the target's process
// tree, this benchmark's own process tree but the target (the generator under
// test: autocannon in this process, or a scalectl child), and
// everything else ("foreign": other jobs on the machine, which skew the figures).
// Linux /proc only; elsewhere the shares are undefined.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** This process's pids that are live children, from every thread's children list (spawn may run on any thread). */
function liveChildren(pid) {
  const out = new Set();
  let tasks = [String(pid)];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { /* no task dir: the main thread only */ }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.add(Number(c));
    } catch { /* thread gone or no children file */ }
  }
  return out;
}

/**
 * The generator's CPU ms: this process (autocannon runs in it), its reaped
 * children, and its live children but the target (a scalectl run while it
 * runs). A child that exits moves from "live" to "reaped": the sum carries on.
 */
function generatorCpuMs(targetPid) {
  let ms = processCpuMs(process.pid, true);
  for (const c of liveChildren(process.pid)) {
    if (c === targetPid) continue;
    try { ms += treeCpuMs(c); } catch { /* exited meanwhile */ }
  }
  return ms;
}

function snapshot(targetPid) {
  return {
    wall: Date.now(),
    at: performance.now(),
    machine: machineBusyMs(),
    target: targetPid ? treeCpuMs(targetPid) : 0,
    self: generatorCpuMs(targetPid),
  };
}

/** How often the meter samples, ms: a load window's ends are read to within this. */
const SAMPLE_MS = 100;

/**
 * Starts measuring (a snapshot every SAMPLE_MS). The returned function stops
 * and gives each share as a percentage of one core (100 = one core busy) over
 * `window` ({ startMs, endMs }, wall clock: the run's own load window) when
 * given, else over the whole measurement; `sec`: the span measured.
 */
export function startCpuMeter(targetPid) {
  const snaps = [];
  const take = () => {
    try { snaps.push(snapshot(targetPid)); } catch { /* /proc unreadable: no shares */ }
  };
  take();
  if (!snaps.length) return () => ({});
  const timer = setInterval(take, SAMPLE_MS);
  return (window) => {
    clearInterval(timer);
    take();
    // The last snapshot at or before the window's start, the first at or after its end.
    const a = (window && snaps.findLast((s) => s.wall <= window.startMs)) || snaps[0];
    const b = (window && snaps.find((s) => s.wall >= window.endMs)) || snaps[snaps.length - 1];
    if (b.at <= a.at) return {};
    const pct = (ms) => Math.round((ms / (b.at - a.at)) * 1000) / 10;
    const target = b.target - a.target;
    const generator = b.self - a.self;
    return {
      targetPct: pct(target),
      generatorPct: pct(generator),
      foreignPct: Math.max(0, pct(b.machine - a.machine - target - generator)),
      sec: Math.round(b.at - a.at) / 1000,
      loadWindow: Boolean(window),
    };
  };
}

/** A run's own load window (wall clock): a RunResult's startedAt + loadDurationSec, autocannon's start and finish; undefined when unknown. */
export function loadWindow(got) {
  if (got?.result?.startedAt && got.result.loadDurationSec) {
    const startMs = Date.parse(got.result.startedAt);
    return { startMs, endMs: startMs + got.result.loadDurationSec * 1000 };
  }
  if (got?.start && got.finish) return { startMs: new Date(got.start).getTime(), endMs: new Date(got.finish).getTime() };
  return undefined;
}
