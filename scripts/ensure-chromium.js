#!/usr/bin/env node
// The browser test (test/browser-report.test.ts) opens the HTML reports in
// Debian's chromium. This makes sure it is there before the suite runs:
// present already, or installed with apt-get when running as root on
// Debian (as CI does); otherwise it says what to install and fails.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const path = process.env.SCALECTL_CHROMIUM || '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!hasApt || !isRoot || process.env.SCALECTL_CHROMIUM) {
  console.error(`scripts/ensure-chromium.js: the browser test needs chromium at ${path}.`);
  console.error('Install it (Debian: sudo apt-get install chromium), or point SCALECTL_CHROMIUM at a Chromium or Chrome binary.');
  process.exit(1);
}
console.error('chromium not found: installing it with apt-get (for the browser test of the HTML reports)...');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
}
if (!existsSync(path)) {
  console.error(`apt-get installed chromium, but ${path} is still missing`);
  process.exit(1);
}
