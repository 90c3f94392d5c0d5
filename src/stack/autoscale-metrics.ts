import { Counter, Gauge, type Registry } from 'prom-client';
import { SHOP_SERIES } from './protocol.js';

/** A role the stack scales: web workers (HPA on CPU) or order consumers (KEDA on the backlog). */
export type ScaledRole = 'web' | 'consumer';
const ROLES: readonly ScaledRole[] = ['web', 'consumer'];

/** Replicas of one role now: ready (serving or consuming) and starting (forked, or ready but within podStartup). */
export type ReplicaCount = () => { ready: number; starting: number };

/** What the autoscalers record; the series live in the primary's own registry (not summed across workers). */
export interface AutoscaleMetrics {
  /** The count the autoscaler decided on (replicas), at each decision. */
  desired: (role: ScaledRole, n: number) => void;
  /** One scaling event: the count went up or down. */
  scaled: (role: ScaledRole, direction: 'up' | 'down') => void;
  /** What the last decision was made on: web, mean CPU utilization in percent of the request; consumer, the backlog in jobs. */
  observed: (role: ScaledRole, value: number) => void;
}

/**
 * Registers the autoscaling series on `registry`: `shop_replicas{role,state}`
 * (read from `roles` at each scrape, so it is right with autoscaling off
 * too), `shop_replicas_desired{role}` (the count at creation until a first
 * decision), `shop_scaling_events_total{role,direction}` (every series at 0
 * from the start, so that increase() sees the first event) and
 * `shop_autoscaler_observed{role}`.
 */
export function createAutoscaleMetrics(registry: Registry, roles: Record<ScaledRole, ReplicaCount>): AutoscaleMetrics {
  const registers = [registry];
  new Gauge({
    name: SHOP_SERIES.replicas, help: 'Replicas by role (web workers, order consumers) and state (ready, starting).',
    labelNames: ['role', 'state'] as const, registers,
    collect() {
      for (const role of ROLES) {
        const n = roles[role]();
        this.set({ role, state: 'ready' }, n.ready);
        this.set({ role, state: 'starting' }, n.starting);
      }
    },
  });
  const desired = new Gauge({ name: 'shop_replicas_desired', help: 'Replicas the autoscaler decided on, by role.', labelNames: ['role'] as const, registers });
  const events = new Counter({ name: 'shop_scaling_events_total', help: 'Scaling events by role and direction (up, down).', labelNames: ['role', 'direction'] as const, registers });
  const observed = new Gauge({
    name: 'shop_autoscaler_observed', labelNames: ['role'] as const, registers,
    help: 'What the last decision was made on: web, mean CPU utilization of ready workers in percent of the request; consumer, jobs waiting.',
  });
  for (const role of ROLES) {
    const n = roles[role]();
    desired.set({ role }, n.ready + n.starting);
    events.inc({ role, direction: 'up' }, 0);
    events.inc({ role, direction: 'down' }, 0);
  }
  return {
    desired: (role, n) => desired.set({ role }, n),
    scaled: (role, direction) => events.inc({ role, direction }),
    observed: (role, value) => observed.set({ role }, value),
  };
}
