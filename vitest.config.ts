import { configDefaults, defineConfig } from 'vitest/config';

// Four groups (sequence.groupOrder): pure, then light and stack together (three files at a time; vitest wants one
// maxWorkers for a group), then load. Light and stack tests time nothing finer than a quarter second and mostly
// wait (on a small run, on child processes): side by side they keep the suite under its 15 minutes on the 2-core
// CI machine. Load tests run alone, one file at a time.
// Pure tests: no sockets, no child processes, no real-time waits, no load. They share one worker
// without isolation (the module graph is loaded once, not once per file: 0.3-1 s a file saved).
// A src test that opens a server, spawns a process or waits on a real timer goes in TIMED_SRC;
// a new test/ file goes to 'load' (isolated) unless listed here.
const PURE = [
  'src/**/*.test.ts',
  'test/architecture.test.ts',
  'test/capacity-docs.test.ts',
  'test/checks-validation.test.ts',
  'test/cookies-tls-vus-validation.test.ts',
  'test/dashboards.test.ts',
  'test/json-schema.test.ts',
  'test/junit-xsd.test.ts',
  'test/k8s-job.test.ts',
  'test/migrating-docs.test.ts',
  'test/plan-erlang.test.ts',
  'test/plan-usl.test.ts',
  'test/stack/reference-stack-docs.test.ts',
  'test/streaming-docs.test.ts',
  'test/validation.test.ts',
];
// Load tests with nothing timed in them (no latency or rate margins, no reference stack, no database):
// small runs checked for counts, outputs and exit codes. Each worker without isolation.
const LIGHT = [
  'test/capacity-event-queues.test.ts',
  'test/checks-and-loops.test.ts',
  'test/ci-outputs.test.ts',
  'test/cli-habits.test.ts',
  'test/compare.test.ts',
  'test/cookies.test.ts',
  'test/credentials.test.ts',
  'test/dockerfile.test.ts',
  'test/escape-names.test.ts',
  'test/exemplars.test.ts',
  'test/html-report.test.ts',
  'test/http-conformance.test.ts',
  'test/import-artillery.test.ts',
  'test/k6-thresholds.test.ts',
  'test/merge.test.ts',
  'test/output-files.test.ts',
  'test/shop-deploy.test.ts',
  'test/summary.test.ts',
  'test/telemetry-databases.test.ts',
  'test/telemetry-replicas.test.ts',
  'test/tls.test.ts',
  'test/workers.test.ts',
];
// Reference-stack tests whose timed work runs in child processes (the stack, PostgreSQL, Redis, RabbitMQ): this
// process only starts them, polls and checks, and mostly waits. Each worker without isolation: the group took
// 215 s one file at a time and 112 s two at a time on the 2-core CI machine. The few time bounds
// they check are seconds wide (a fast failure while Redis is down, a bounded drain), not latencies or rates.
const STACK = [
  'test/stack/checkout.test.ts',
  'test/stack/connection-rebalance.test.ts',
  'test/stack/db-outage.test.ts',
  'test/stack/db.test.ts',
  'test/stack/domain-events.test.ts',
  'test/stack/event-delivery.test.ts',
  'test/stack/order-requeue.test.ts',
  'test/stack/pg-binaries.test.ts',
  'test/stack/pg-queue.test.ts',
  'test/stack/pg-supervisor.test.ts',
  'test/stack/pg-watchdog.test.ts',
  'test/stack/rate-limit-cluster.test.ts',
  'test/stack/read-replicas.test.ts',
  'test/stack/redis-outage.test.ts',
  'test/stack/shards.test.ts',
  'test/stack/shop-roles.test.ts',
  'test/stack/stack-embedded-faults.test.ts',
  'test/stack/stack-embedded.test.ts',
  'test/stack/stack-faults.test.ts',
  'test/stack/traces.test.ts',
];
const TIMED_SRC = [
  'src/engine/http-client.test.ts',
  'src/engine/start-barrier.test.ts',
  'src/stack/proc-cpu.test.ts',
  'src/streams/remote-write-stream.test.ts',
  'src/telemetry/promql-source.test.ts',
  'src/telemetry/telemetry-collector.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/helpers/plain-summary-reporter.ts'],
    setupFiles: ['./test/helpers/cleanup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'pure',
          include: PURE,
          exclude: [...configDefaults.exclude, ...TIMED_SRC],
          sequence: { groupOrder: 0 },
          maxWorkers: 1,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'light',
          include: LIGHT,
          sequence: { groupOrder: 1 },
          maxWorkers: 3,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'stack',
          include: STACK,
          sequence: { groupOrder: 1 },
          maxWorkers: 3,
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'load',
          include: ['test/**/*.test.ts', ...TIMED_SRC],
          exclude: [...configDefaults.exclude, ...PURE.filter((p) => p.startsWith('test/')), ...LIGHT, ...STACK],
          sequence: { groupOrder: 3 },
          // Load tests measure timing in this process: two of them at once on a 2-core machine would
          // measure each other. Files run one at a time, each in a fresh process; tests inside a file in order.
          fileParallelism: false,
        },
      },
    ],
  },
});
