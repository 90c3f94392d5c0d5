import type { Phase } from '../scenarios/schema.js';
import type { Executor } from './executor.js';
import { arrivalRate } from './arrival-rate.js';
import { vus } from './vus.js';

/** Load models by their YAML keyword. A pause phase schedules nothing. */
export const EXECUTORS: Record<Phase['kind'], Executor> = {
  arrivalRate: arrivalRate as Executor,
  vus: vus as Executor,
  pause: async () => {},
};
