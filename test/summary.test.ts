import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

describe('end-of-run summary', () => {
  it('shows endpoints, totals, flows, each threshold with its actual value, and the verdict', async () => {
    const dir = await tempFiles({
      's.yaml': `
name: summary
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows:
  - name: mixed
    steps:
      - { name: a-very-long-endpoint-name-that-would-otherwise-widen-every-table, get: /delay/20 }
      - { name: missing, get: /status/404 }
thresholds:
  - p90 < 1s
  - p90 < 1ms
  - error_rate < 1%
  - missing: error_rate <= 100%
`,
    });
    const r = await runCli(['run', 's.yaml', '--no-progress'], { cwd: dir });
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    const out = r.stdout;
    expect(out).toMatch(/│ a-very-long-endpoint-name-that-woul… │ 20 /);
    expect(out).toMatch(/│ missing +│ 20 .*│ 404:20 +│ http_4xx:20 │/);
    expect(out).toMatch(/│ total +│ 40 /);
    expect(out).toMatch(/│ mixed +│ 20 +│ 0 +│ 20 +│ 0 +│ 0 /);
    // p90 sits in the /delay/20 half: at least 20 ms, well under a second even on a busy machine.
    const p90 = Number(/│ p90 < 1s +│ (\d+(?:\.\d+)?)ms +│ pass +│/.exec(out)?.[1]);
    expect(p90).toBeGreaterThanOrEqual(20);
    expect(p90).toBeLessThan(500);
    expect(out).toMatch(/│ p90 < 1ms +│ \d+(\.\d+)?ms +│ FAIL +│/);
    expect(out).toMatch(/│ error_rate < 1% +│ 50\.00% +│ FAIL +│/);
    expect(out).toMatch(/│ missing: error_rate <= 100% +│ 100\.00% +│ pass +│/);
    expect(out).toMatch(/errors seen: http_4xx: status 404/);
    expect(out).toMatch(/arrivals late by up to/);
    // The default threshold on dropped arrivals is judged too (an open-model run), marked as such.
    expect(out).toMatch(/│ dropped_rate <= 1% \(default\) +│ 0\.00% +│ pass +│/);
    expect(out.trim().split('\n').pop()).toBe('FAILED: 2 of 5 thresholds');
    // Not a terminal: no colour.
    expect(out).not.toContain('\x1b[');
  });
});
