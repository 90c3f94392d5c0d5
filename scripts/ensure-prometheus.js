#!/usr/bin/env node
// The live-stream test (test/streams.test.ts) sends remote write to Debian's
// prometheus (2.33 or later) and queries it with PromQL: present already, or
// installed (scripts/ensure-debian-package.js).
import { ensureDebianPackage } from './ensure-debian-package.js';

ensureDebianPackage({
  script: 'ensure-prometheus.js', pkg: 'prometheus', envVar: 'SCALECTL_PROMETHEUS', defaultPath: '/usr/bin/prometheus',
  why: 'the remote-write test of --stream', other: 'a prometheus binary (2.33 or later)',
});
