#!/usr/bin/env node
// The browser test (test/browser-report.test.ts) opens the HTML reports in
// Debian's chromium: present already, or installed (scripts/ensure-debian-package.js).
import { ensureDebianPackage } from './ensure-debian-package.js';

ensureDebianPackage({
  script: 'ensure-chromium.js', pkg: 'chromium', envVar: 'SCALECTL_CHROMIUM', defaultPath: '/usr/bin/chromium',
  why: 'the browser test of the HTML reports', other: 'a Chromium or Chrome binary',
});
