import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startAutoscalers, type AutoscaleClock, type AutoscaleHooks, type AutoscaleSettings } from './autoscale-controller.js';
import type { AutoscaleMetrics } from './autoscale-metrics.js';

/*
 * The controllers with fake hooks and a fake clock: time moves only when a
 * test advances it, each timer fires at its exact time, and the hooks answer
 * at once (or when a test settles them), so every sequence is deterministic.
 */

/** Interval timers on a clock that only tests move. */
class FakeClock implements AutoscaleClock {
  private ms = 0;
  private readonly timers: { every: number; next: number; fn: () => void; on: boolean }[] = [];
  now(): number {
    return this.ms / 1000;
  }
  every(ms: number, fn: () => void): () => void {
    const timer = { every: ms, next: this.ms + ms, fn, on: true };
    this.timers.push(timer);
    return () => { timer.on = false; };
  }
  /** Moves time to `sec` (seconds since the start), firing each due timer at its time and letting its tick run. */
  async to(sec: number): Promise<void> {
    const end = sec * 1000;
    for (;;) {
      const due = this.timers.filter((t) => t.on && t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.ms = due.next;
      due.next += due.every;
      due.fn();
      await turn(); // the fake hooks resolve at once: one turn of the event loop settles the tick
    }
    this.ms = end;
  }
}

/** A role whose replicas start when scaled up, become ready when the test says, and leave at once when scaled down. */
class FakeRole {
  ready: string[];
  starting = 0;
  readonly scaledTo: number[] = [];
  private serial = 0;
  constructor(readyAtStart: number, private readonly prefix: string) {
    this.ready = Array.from({ length: readyAtStart }, () => this.newId());
  }
  private newId(): string {
    return `${this.prefix}${++this.serial}`;
  }
  replicas() {
    return { ready: [...this.ready], starting: this.starting };
  }
  scaleTo(n: number): void {
    this.scaledTo.push(n);
    const current = this.ready.length + this.starting;
    if (n > current) this.starting += n - current;
    else this.ready = this.ready.slice(0, n - this.starting);
  }
  /** The starting replicas are ready now. */
  promote(): void {
    for (; this.starting > 0; this.starting--) this.ready.push(this.newId());
  }
}

/** Web workers whose CPU counters grow at `cores` CPU seconds per second each, from when they are first sampled. */
class FakeWeb extends FakeRole {
  cores = 0;
  failing = false;
  /** Ready workers left out of the samples (they could not be measured). */
  readonly unmeasured = new Set<string>();
  private readonly counters = new Map<string, { at: number; cpu: number }>();
  constructor(readyAtStart: number, private readonly clock: FakeClock) {
    super(readyAtStart, 'w');
  }
  async cpuSeconds(): Promise<Map<string, number>> {
    if (this.failing) throw new Error('workers did not answer');
    const now = this.clock.now();
    const out = new Map<string, number>();
    for (const id of this.ready.filter((i) => !this.unmeasured.has(i))) {
      const c = this.counters.get(id) ?? { at: now, cpu: 0 };
      const next = { at: now, cpu: c.cpu + this.cores * (now - c.at) };
      this.counters.set(id, next);
      out.set(id, next.cpu);
    }
    return out;
  }
}

class FakeConsumers extends FakeRole {
  backlogs: (() => Promise<number>)[] = [];
  reads = 0;
  constructor(readyAtStart: number) {
    super(readyAtStart, 'c');
  }
  backlog(): Promise<number> {
    this.reads++;
    return (this.backlogs.shift() ?? (() => Promise.resolve(0)))();
  }
}

const settings: AutoscaleSettings = {
  minWorkers: 1, maxWorkers: 4, cpuTarget: 50, cpuRequest: 1000, hpaSync: 15_000, hpaTolerance: 0.1,
  scaleDownWindow: 60_000, scaleUpPods: 4, scaleUpPercent: 100, scaleUpPeriod: 15_000,
  minConsumers: 1, maxConsumers: 4, backlogTarget: 5, pollingInterval: 2_000, cooldown: 20_000,
};

function setup(web: number, consumers: number, overrides: Partial<AutoscaleSettings> = {}) {
  const clock = new FakeClock();
  const w = new FakeWeb(web, clock);
  const c = new FakeConsumers(consumers);
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const seen = { desired: [] as [string, number][], scaled: [] as [string, string][], observed: [] as [string, number][] };
  const metrics: AutoscaleMetrics = {
    desired: (role, n) => void seen.desired.push([role, n]),
    scaled: (role, dir) => void seen.scaled.push([role, dir]),
    observed: (role, v) => void seen.observed.push([role, v]),
  };
  const hooks: AutoscaleHooks = {
    web: { replicas: () => w.replicas(), scaleTo: (n) => w.scaleTo(n), cpuSeconds: () => w.cpuSeconds() },
    consumer: { replicas: () => c.replicas(), scaleTo: (n) => c.scaleTo(n), backlog: () => c.backlog() },
  };
  const scalers = startAutoscalers({ ...settings, ...overrides }, hooks, (level, msg, fields) => void logs.push({ level, msg, fields }), metrics, clock);
  return { clock, w, c, logs, seen, scalers };
}

describe('HPA for web workers', () => {
  it('scales up at the first sync above target and logs the numbers', async () => {
    const { clock, w, logs, seen, scalers } = setup(1, 1);
    w.cores = 0.92;
    await clock.to(14);
    expect(w.scaledTo).toEqual([]);
    // t=15, first sync: samples t=1..15, 0.92 CPU s per s of a 1-core request = 92%; ceil(1 × 92 / 50) = ceil(1.84) = 2
    await clock.to(15);
    expect(w.scaledTo).toEqual([2]);
    const line = logs.find((l) => l.msg.startsWith('HPA'));
    expect(line).toEqual({ level: 'info', msg: 'HPA web: 1 → 2 replicas (ceil(1 × 92% / 50%) = 2)', fields: { role: 'web', from: 1, to: 2, metric: 92, reason: 'ceil(1 × 92% / 50%) = 2' } });
    expect(seen.desired).toContainEqual(['web', 2]);
    expect(seen.scaled).toEqual([['web', 'up']]);
    expect(seen.observed).toContainEqual(['web', 92]);
    await scalers.stop();
  });

  it('counts a worker ready too recently to measure as starting', async () => {
    const { clock, w, scalers } = setup(1, 1);
    w.cores = 0.92;
    await clock.to(15);
    expect(w.scaledTo).toEqual([2]);
    // ready at t=29.5: one sample at t=30, no window yet. Counted as starting (at 0%): floor(92 / 2) = 46%, 0.92 < 1: no change.
    // (Left out altogether, the sync would see 1 replica at 92% and ask for 2 again.)
    await clock.to(29.5);
    w.promote();
    await clock.to(30);
    expect(w.scaledTo).toEqual([2]);
    // t=45: both measured (the new one since t=30) at 92%: ceil(2 × 1.84) = 4
    await clock.to(45);
    expect(w.scaledTo).toEqual([2, 4]);
    await scalers.stop();
  });

  it('holds within the tolerance', async () => {
    const { clock, w, logs, seen, scalers } = setup(2, 1);
    w.cores = 0.53; // 53 / 50 = 1.06: inside 1 ± 0.1
    await clock.to(60);
    expect(w.scaledTo).toEqual([]);
    expect(logs.filter((l) => l.msg.startsWith('HPA'))).toEqual([]);
    // every sync (15, 30, 45, 60) still records its decision
    expect(seen.desired.filter(([r]) => r === 'web')).toEqual([['web', 2], ['web', 2], ['web', 2], ['web', 2]]);
    expect(seen.observed.filter(([r]) => r === 'web')).toEqual([['web', 53], ['web', 53], ['web', 53], ['web', 53]]);
    await scalers.stop();
  });

  it('scales down only after the stabilisation window', async () => {
    const { clock, w, logs, seen, scalers } = setup(3, 1);
    w.cores = 0.1; // 10% of 50%: ceil(3 × 0.2) = 1 at every sync
    // the first sync (t=15) records the 3 it found; that holds until it leaves the 60 s window: 15 is not > 75 − 60
    await clock.to(74);
    expect(w.scaledTo).toEqual([]);
    await clock.to(75);
    expect(w.scaledTo).toEqual([1]);
    expect(seen.scaled).toEqual([['web', 'down']]);
    expect(logs.find((l) => l.msg.startsWith('HPA'))?.msg).toBe('HPA web: 3 → 1 replicas (ceil(3 × 10% / 50%) = 1)');
    await scalers.stop();
  });

  it('warns once per streak when CPU cannot be sampled, and then does not scale on a missing window', async () => {
    const { clock, w, logs, scalers } = setup(1, 1);
    w.cores = 0.92;
    w.failing = true;
    await clock.to(15);
    expect(logs.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', msg: 'HPA web: cannot sample CPU: workers did not answer', fields: { role: 'web' } }]);
    expect(w.scaledTo).toEqual([]);
    await scalers.stop();
  });

  it('warns once per streak when a sync finds ready workers it could not measure, which then count as starting', async () => {
    const { clock, w, logs, scalers } = setup(1, 1);
    w.cores = 0.92;
    w.unmeasured.add('w1');
    await clock.to(45); // syncs at 15, 30, 45, all blind: one warning, no change
    const warning = { level: 'warn', msg: 'HPA web: cannot sample CPU of web worker w1; counted as starting', fields: { role: 'web', workers: ['w1'] } };
    expect(logs.filter((l) => l.level === 'warn')).toEqual([warning]);
    expect(w.scaledTo).toEqual([]);
    // Measured again: the streak ends, and the HPA acts on its window (t=45..60).
    w.unmeasured.clear();
    await clock.to(60);
    expect(w.scaledTo).toEqual([2]);
    // A new streak warns again.
    w.unmeasured.add('w1');
    await clock.to(75);
    expect(logs.filter((l) => l.level === 'warn')).toEqual([warning, warning]);
    await scalers.stop();
  });
});

describe('KEDA for order consumers', () => {
  it('scales up on the backlog at once and down after the cooldown', async () => {
    const { clock, c, logs, seen, scalers } = setup(1, 1);
    c.backlogs.push(() => Promise.resolve(12));
    // t=2, first poll: ceil(12 / 5) = ceil(2.4) = 3
    await clock.to(2);
    expect(c.scaledTo).toEqual([3]);
    expect(logs.find((l) => l.msg.startsWith('KEDA'))).toEqual({
      level: 'info', msg: 'KEDA consumer: 1 → 3 replicas (ceil(backlog 12 / 5 per replica) = 3)',
      fields: { role: 'consumer', from: 1, to: 3, metric: 12, reason: 'ceil(backlog 12 / 5 per replica) = 3' },
    });
    expect(seen.observed).toContainEqual(['consumer', 12]);
    c.promote();
    // empty queue from t=4: 1 wanted, held by the t=2 poll's 3 until 2 is not > t − 20, at t=22
    await clock.to(21);
    expect(c.scaledTo).toEqual([3]);
    await clock.to(22);
    expect(c.scaledTo).toEqual([3, 1]);
    expect(seen.scaled).toEqual([['consumer', 'up'], ['consumer', 'down']]);
    await scalers.stop();
  });

  it('logs a warning and changes nothing when the backlog cannot be read', async () => {
    const { clock, c, logs, seen, scalers } = setup(1, 3);
    c.backlogs.push(() => Promise.reject(new Error('connection refused')));
    await clock.to(2);
    expect(logs).toEqual([{ level: 'warn', msg: 'KEDA consumer: cannot read the backlog: connection refused; no change', fields: { role: 'consumer' } }]);
    expect(c.scaledTo).toEqual([]);
    expect(seen.desired.filter(([r]) => r === 'consumer')).toEqual([]);
    await scalers.stop();
  });

  it('never overlaps ticks, and stop() waits for the running one, which then changes nothing', async () => {
    const { clock, c, seen, scalers } = setup(1, 1);
    let answer: (n: number) => void = () => undefined;
    c.backlogs.push(() => new Promise<number>((resolve) => { answer = resolve; }));
    await clock.to(6); // polls due at 2, 4 and 6: the first is still waiting, the others are skipped
    expect(c.reads).toBe(1);
    let stopped = false;
    const stopping = scalers.stop().then(() => { stopped = true; });
    await turn();
    expect(stopped).toBe(false);
    answer(50);
    await stopping;
    expect(c.scaledTo).toEqual([]);
    expect(seen.desired.filter(([r]) => r === 'consumer')).toEqual([]);
    await clock.to(20); // timers cancelled
    expect(c.reads).toBe(1);
  });
});
