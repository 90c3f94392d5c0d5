// Where scalectl's CPU goes (`npm run bench:profile`; docs/benchmarks.md):
// one closed-model run (50 VUs, --workers 1, so the engine is the main thread)
// against the benchmark's local target, under `node --cpu-prof`, then a
// summary of the profile: the share of samples by category and the top
// functions by self time.
//
// Options: --http-client auto|undici (auto: the scenario's default; undici:
//   `defaults.httpClient: undici`, the path before issue 16) --duration <s> (5)
//   --vus <n> (50) --top <n> (15) --target-kind auto|nginx|node (auto)
//   --save <file.cpuprofile> (keep the profile: Chrome DevTools or speedscope draw its flame graph)
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from './report.js';
import { killChildren, runChild, SCALECTL, scalectlNodeFlags, scenarioYaml } from './runners.js';
import { startTarget } from './targets.js';

const USAGE = `usage: node bench/profile.js [options]   (npm run bench:profile -- [options]; docs/benchmarks.md)
  --http-client auto|undici (auto)  --duration <s> (5)  --vus <n> (50)  --top <n> (15)
  --target-kind auto|nginx|node (auto)  --save <file.cpuprofile>  --help`;

let opt;
try {
  ({ values: opt } = parseArgs({
    options: {
      'http-client': { type: 'string', default: 'auto' },
      duration: { type: 'string', default: '5' },
      vus: { type: 'string', default: '50' },
      top: { type: 'string', default: '15' },
      'target-kind': { type: 'string', default: 'auto' },
      save: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  console.error(`bench/profile.js: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
const durationSec = Number(opt.duration);
const vus = Number(opt.vus);
const top = Number(opt.top);
if (!['auto', 'undici'].includes(opt['http-client']) || !(durationSec > 0 && durationSec <= 60) || !(vus >= 1) || !(top >= 1)
  || !['auto', 'nginx', 'node'].includes(opt['target-kind'])) {
  console.error(`bench/profile.js: bad options\n${USAGE}`);
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');

/** The lean client's modules in dist/: the client itself and the request heads it writes. */
const LEAN_CLIENT = /\/engine\/(?:lean-http[^/]*|request-head)\.js$/;

/** The category of one profile node, from its function name and script URL. */
export function categoryOf({ functionName, url }) {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return '(program)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(DIST)) {
    return LEAN_CLIENT.test(path) ? 'scalectl lean client (dist/engine/lean-http*.js, request-head.js)' : 'scalectl, rest of dist/';
  }
  if (path.includes('/node_modules/undici/')) return 'undici';
  if (path.includes('/node_modules/http-parser-js/')) return 'http-parser-js';
  // undici parses responses with llhttp compiled to WebAssembly (scalectl's histograms are built without it).
  if (path.startsWith('wasm://')) return "undici's llhttp (wasm)";
  // Loading and compiling modules happens once, at start-up: apart, so it is not read as per-request cost.
  if (path.startsWith('node:internal/modules/')) return 'node: module loading (start-up)';
  if (path.startsWith('node:')) return 'node: internals';
  if (!path) return 'native (no script: bindings such as writev, builtins)';
  return 'other';
}

/** The npm package of a path under node_modules (scoped ones too), for the breakdown of "other". */
function packageOf(url) {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return m ? m[1] : url ? 'scripts outside node_modules' : '?';
}

/** The Node module of a node: URL, for the internals' breakdown (node:internal/streams/writable -> internal/streams). */
function nodeModule(url) {
  const parts = url.slice('node:'.length).split('/');
  return parts[0] === 'internal' && parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
}

/**
 * Self time per node of a .cpuprofile: each sample is charged the time until
 * the next one (the last one, the mean interval). Returns Map(nodeId -> µs) and the total.
 */
export function selfTimes(profile) {
  const { samples, timeDeltas } = profile;
  const self = new Map();
  const meanDelta = samples.length ? (profile.endTime - profile.startTime) / samples.length : 0;
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = i + 1 < samples.length ? Math.max(0, timeDeltas[i + 1]) : meanDelta;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + us);
    total += us;
  }
  return { self, total };
}

const pct = (part, whole) => `${whole ? ((part / whole) * 100).toFixed(1) : '0.0'}%`;
const ms = (us) => (us / 1000).toFixed(0);

/** The printed summary of one profile. */
export function summarize(profile, topN) {
  const { self, total } = selfTimes(profile);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byCategory = new Map();
  const byNodeModule = new Map();
  const byPackage = new Map();
  const byFunction = new Map();
  for (const [id, us] of self) {
    const { callFrame } = nodes.get(id);
    const category = categoryOf(callFrame);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    if (category === 'node: internals') byNodeModule.set(nodeModule(callFrame.url), (byNodeModule.get(nodeModule(callFrame.url)) ?? 0) + us);
    if (category === 'other') byPackage.set(packageOf(callFrame.url), (byPackage.get(packageOf(callFrame.url)) ?? 0) + us);
    const where = callFrame.url ? `${callFrame.url.replace(`file://${ROOT}`, '').replace(/^.*\/node_modules\//, '')}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'}\t${where}`;
    const f = byFunction.get(key) ?? { us: 0, category };
    f.us += us;
    byFunction.set(key, f);
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => (b[1].us ?? b[1]) - (a[1].us ?? a[1]));
  const busy = total - (byCategory.get('idle') ?? 0);
  const lines = [
    `samples: ${profile.samples.length} over ${ms(total)} ms (${ms(busy)} ms not idle)\n`,
    table(['category', 'self ms', 'share', 'share of non-idle'],
      sorted(byCategory).map(([c, us]) => [c, ms(us), pct(us, total), c === 'idle' ? '' : pct(us, busy)])),
    '',
    `node: internals by module: ${sorted(byNodeModule).slice(0, 6).map(([m, us]) => `${m} ${pct(us, total)}`).join(', ') || 'none'}`,
    `other by package: ${sorted(byPackage).slice(0, 6).map(([m, us]) => `${m} ${pct(us, total)}`).join(', ') || 'none'}`,
    '',
    `top ${topN} functions by self time\n`,
    table(['function', 'where', 'self ms', 'share', 'category'],
      sorted(byFunction).slice(0, topN).map(([key, f]) => [...key.split('\t'), ms(f.us), pct(f.us, total), f.category])),
  ];
  return lines.join('\n');
}

const controller = new AbortController();

// As bench/run.js: a first Ctrl-C stops the run and the target and removes the
// temp dir; a second one exits at once (the exit handler still cleans up).
let signals = 0;
const onSignal = (sig) => {
  process.exitCode = 130;
  if (++signals === 1) {
    console.error(`\nbench/profile.js: ${sig}, stopping the run and the target`);
    controller.abort(new Error(`interrupted by ${sig}`));
  } else process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'scalectl-profile-'));
  const profDir = join(dir, 'prof');
  let target;
  process.on('exit', () => {
    killChildren();
    target?.killNow();
    rmSync(dir, { recursive: true, force: true });
  });
  target = await startTarget(dir, opt['target-kind']);
  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    const yamlPath = join(dir, 'profile.yaml');
    const outPath = join(dir, 'profile.json');
    const httpClient = opt['http-client'] === 'undici' ? 'undici' : undefined;
    writeFileSync(yamlPath, scenarioYaml('bench-profile', target.url, { duration: `${durationSec}s`, vus }, { httpClient }));
    console.log(`profiling: scalectl run, ${vus} VUs, --workers 1, ${durationSec} s, defaults.httpClient ${opt['http-client']}, against ${target.description}`);
    const args = [...scalectlNodeFlags(), '--cpu-prof', '--cpu-prof-dir', profDir, SCALECTL, 'run', yamlPath, '--out', outPath, '--no-progress', '--workers', '1'];
    const { code, stderr } = await runChild(process.execPath, args, durationSec * 1000 + 60_000, controller.signal);
    let result;
    try {
      result = JSON.parse(readFileSync(outPath, 'utf8'));
    } catch {
      throw new Error(`scalectl exited ${code} and wrote no results:\n${stderr.trim().split('\n').slice(0, 8).join('\n')}`);
    }
    const usage = result.generator.httpClient;
    console.log(`run: ${Math.round(result.totals.requests / result.loadDurationSec)} req/s under the profiler, ${result.totals.errors} errors, exit ${code}` +
      `${usage ? `; lean ${usage.lean}, undici ${usage.undici}${usage.undiciReasons.length ? ` (${usage.undiciReasons.join('; ')})` : ''}` : ''}`);
    // One file per thread that ran JavaScript; with --workers 1 the engine is the main thread, the largest.
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ f, profile: JSON.parse(readFileSync(join(profDir, f), 'utf8')) }))
      .sort((a, b) => b.profile.samples.length - a.profile.samples.length);
    if (!files.length) throw new Error(`no .cpuprofile written in ${profDir}`);
    for (const { f, profile } of files) console.log(`\n== ${f}${f === files[0].f ? ' (the engine: most samples)' : ''}\n\n${summarize(profile, top)}`);
    if (opt.save) {
      copyFileSync(join(profDir, files[0].f), opt.save);
      console.log(`\nsaved ${opt.save} (open it in Chrome DevTools' Performance panel or https://www.speedscope.app for a flame graph)`);
    }
  } finally {
    await target.stop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(`bench/profile.js: ${err.message ?? err}`);
    process.exit(controller.signal.aborted ? 130 : 1);
  },
);
