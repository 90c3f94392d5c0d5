#!/usr/bin/env node
// The benchmark (`npm run bench`, bench/targets.js) measures against Debian's
// nginx: present already, or installed (scripts/ensure-debian-package.js).
// nginx-light is enough (one `return 200`); plain nginx where a release has no
// -light package. Unlike the tests' programs, nginx is not required: when it
// cannot be installed (not root, no apt) this says so and exits 0, and the
// benchmark falls back to its Node target.
import { spawnSync } from 'node:child_process';
import { findNginx } from '../bench/targets.js';
import { ensureDebianPackage } from './ensure-debian-package.js';

/** Whether apt knows a candidate version of `pkg` (false without apt or before the package lists are fetched). */
function hasCandidate(pkg) {
  const r = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  return r.status === 0 && /Candidate: (?!\(none\))/.test(r.stdout);
}

// Present where the benchmark looks ($SCALECTL_NGINX, `nginx` on PATH, Debian's
// /usr/sbin/nginx: bench/targets.js's own lookup): nothing to install.
const found = findNginx();
if (found) console.error(`scripts/ensure-nginx.js: nginx at ${found}`);
else install();

function install() {
  // Unknown to apt either way (e.g. no package lists yet): try -light, the helper fetches the lists first.
  const pkg = !hasCandidate('nginx-light') && hasCandidate('nginx') ? 'nginx' : 'nginx-light';

  // The helper exits 1 when it cannot install; for the benchmark that is a fallback, not a failure.
  process.on('exit', (code) => {
    if (code === 0) return;
    console.error('scripts/ensure-nginx.js: no nginx; `npm run bench` falls back to its Node target (figures not comparable with nginx runs).');
    process.exitCode = 0;
  });

  ensureDebianPackage({
    script: 'ensure-nginx.js', pkg, envVar: 'SCALECTL_NGINX', defaultPath: '/usr/sbin/nginx',
    why: 'the benchmark (npm run bench)', other: 'an nginx binary',
  });
}
