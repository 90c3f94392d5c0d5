import { describe, expect, it } from 'vitest';
import { stackSettings } from '../stack/contract.js';
import { describeStack } from './describe-stack.js';

/** The knobs that act only with autoscale on (docs/reference-stack.md), named here independently of how describeStack finds them. */
const AUTOSCALING = ['minWorkers', 'maxWorkers', 'cpuTarget', 'cpuRequest', 'hpaSync', 'hpaTolerance', 'scaleDownWindow', 'scaleUpPods',
  'scaleUpPercent', 'scaleUpPeriod', 'minConsumers', 'maxConsumers', 'backlogTarget', 'pollingInterval', 'cooldown'];

const keysOf = (line: string): string[] => line.split(', ').map((part) => part.split(' ')[0]!);

describe('describeStack', () => {
  it('with autoscale off leaves out the autoscaling knobs, and keeps the start counts and the rest', () => {
    const settings = stackSettings({ workers: 2, consumers: 3 }, {});
    expect(settings.autoscale).toBe(false);
    for (const k of AUTOSCALING) expect(settings).toHaveProperty(k);
    const line = describeStack(settings);
    const keys = keysOf(line);
    expect(keys.filter((k) => AUTOSCALING.includes(k))).toEqual([]);
    expect(line).toMatch(/^workers 2, consumers 3, backends embedded, /);
    expect(line).toContain('autoscale off');
    // podStartup also delays a worker forked to replace one that died, autoscale or not.
    expect(keys).toEqual(Object.keys(settings).filter((k) => !AUTOSCALING.includes(k)));
  });

  it('with autoscale on shows every knob, its values as set', () => {
    const settings = stackSettings({ autoscale: true, workers: 2, maxWorkers: 6, pollingInterval: 10_000 }, {});
    const line = describeStack(settings);
    expect(keysOf(line)).toEqual(Object.keys(settings));
    expect(line).toContain('autoscale on, minWorkers 1, maxWorkers 6, ');
    expect(line).toContain('pollingInterval 10s');
  });

  it('reads settings recorded before autoscale existed as they were', () => {
    expect(describeStack({ workers: 2, backends: 'embedded', cache: false, cacheTtl: '30s' })).toBe('workers 2, backends embedded, cache off, cacheTtl 30s');
  });
});
