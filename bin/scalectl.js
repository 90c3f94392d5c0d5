#!/usr/bin/env node
// Tiny launcher: everything lives in the built CLI (dist/), produced by `npm run build`
// (which `npm ci` runs through the `prepare` script).
import { run } from '../dist/cli.js';

run();
