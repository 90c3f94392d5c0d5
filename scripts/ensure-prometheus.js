#!/usr/bin/env node
// The live-stream test (test/streams-prometheus.test.ts) sends remote write to
// Debian's prometheus and queries it with PromQL. This makes sure it is there
// before the suite runs: present already, or installed with apt-get when
// running as root on Debian (as CI does); otherwise it says what to install
// and fails.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const path = process.env.SCALECTL_PROMETHEUS || '/usr/bin/prometheus';
if (existsSync(path)) process.exit(0);

const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!hasApt || !isRoot || process.env.SCALECTL_PROMETHEUS) {
  console.error(`scripts/ensure-prometheus.js: the remote-write test needs prometheus (2.33 or later) at ${path}.`);
  console.error('Install it (Debian: sudo apt-get install prometheus), or point SCALECTL_PROMETHEUS at a prometheus binary.');
  process.exit(1);
}
console.error('prometheus not found: installing it with apt-get (for the remote-write test of --stream)...');
// The package's service is not wanted: the test starts its own server on a free port.
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'prometheus']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
}
if (!existsSync(path)) {
  console.error(`apt-get installed prometheus, but ${path} is still missing`);
  process.exit(1);
}
