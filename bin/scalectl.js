#!/usr/bin/env -S node --single-threaded-gc
// Tiny launcher: everything lives in the built CLI (dist/), produced by `npm run build`
// (which `npm ci` runs through the `prepare` script).
//
// --single-threaded-gc: each engine thread collects its own garbage instead of
// handing it to V8's helper threads. The engine runs one thread per core
// (--workers); helper threads would compete with the other engines, and with a
// target on the same machine, for the same cores. Measured with `npm run bench`
// against nginx on 2 cores, 50 connections: +10% requests per second
// (docs/benchmarks.md). `node bin/scalectl.js` without the flag works the same,
// with V8's default collector.
import { run } from '../dist/cli.js';

run();
