// Makes sure a program a test needs is on this machine before the suite runs:
// present already, or installed with apt-get when running as root on Debian
// (as CI does); otherwise it says what to install and exits 1.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/**
 * @param {{ script: string, pkg: string, envVar: string, defaultPath: string, why: string, other: string }} p
 *   script: this script's name, for messages; pkg: the Debian package; envVar: the variable that points at
 *   another binary; defaultPath: where the package puts it; why: the test that needs it; other: what else works.
 */
export function ensureDebianPackage({ script, pkg, envVar, defaultPath, why, other }) {
  const path = process.env[envVar] || defaultPath;
  if (existsSync(path)) return;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!hasApt || !isRoot || process.env[envVar]) {
    console.error(`scripts/${script}: ${why} needs ${pkg} at ${path}.`);
    console.error(`Install it (Debian: sudo apt-get install ${pkg}), or point ${envVar} at ${other}.`);
    process.exit(1);
  }
  console.error(`${pkg} not found: installing it with apt-get (for ${why})...`);
  // Packages' services are not wanted: tests start their own, on free ports.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', pkg]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
      process.exit(1);
    }
  }
  if (!existsSync(path)) {
    console.error(`apt-get installed ${pkg}, but ${path} is still missing`);
    process.exit(1);
  }
}
