/** A worker's cumulative CPU seconds at one time (seconds on the controller's clock). */
interface CpuSample {
  t: number;
  cpu: number;
}

/** Shortest span of samples (seconds) that makes a utilization: about one sample interval, with room for timer jitter. */
const MIN_SPAN_FACTOR = 0.9;

/**
 * CPU utilization of each web worker over the HPA's sync window, from
 * cumulative CPU counters sampled about every second: (CPU seconds at the
 * last sample − at the first sample of the window) / the time between /
 * the CPU request in cores. A worker ready for less than a window is
 * measured since its first sample; one with less than one sample interval
 * of samples has no utilization yet.
 */
export class CpuWindows {
  private readonly samples = new Map<string, CpuSample[]>();

  /**
   * @param windowSec the HPA's sync period, seconds
   * @param sampleSec time between samples, seconds
   * @param requestCores the CPU request of one worker, cores (1 = 1000 millicores)
   */
  constructor(private readonly windowSec: number, private readonly sampleSec: number, private readonly requestCores: number) {}

  /** Adds a sample per ready worker that answered; forgets workers no longer ready. */
  record(now: number, ready: readonly string[], cpu: ReadonlyMap<string, number> | undefined): void {
    const live = new Set(ready);
    for (const id of this.samples.keys()) if (!live.has(id)) this.samples.delete(id);
    if (!cpu) return;
    for (const id of ready) {
      const value = cpu.get(id);
      if (value === undefined) continue;
      const list = this.samples.get(id) ?? [];
      const last = list[list.length - 1];
      // A counter that went back belongs to a new process under the same id: start over.
      if (last && value < last.cpu) list.length = 0;
      list.push({ t: now, cpu: value });
      this.samples.set(id, this.inWindow(list, now));
    }
  }

  /** Utilization of the worker over the window ending now, as a fraction of its request (1.5 = 150%); undefined without a usable window. */
  utilization(id: string, now: number): number | undefined {
    const list = this.inWindow(this.samples.get(id) ?? [], now);
    if (list.length < 2) return undefined;
    const first = list[0]!;
    const last = list[list.length - 1]!;
    const span = last.t - first.t;
    if (span < this.sampleSec * MIN_SPAN_FACTOR) return undefined;
    return (last.cpu - first.cpu) / span / this.requestCores;
  }

  /** The samples of the last window; half a sample of slack keeps the one taken a window ago. */
  private inWindow(list: CpuSample[], now: number): CpuSample[] {
    const from = now - this.windowSec - this.sampleSec / 2;
    const i = list.findIndex((s) => s.t >= from);
    return i <= 0 ? (i === 0 ? list : []) : list.slice(i);
  }
}
