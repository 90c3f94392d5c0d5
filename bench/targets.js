// Starts the one local target a benchmark run measures against: nginx when it
// is installed (Debian's package), else a minimal Node server in a child
// process. Both listen on 127.0.0.1 only, on a free port, and answer every
// request with a small static body.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Where Debian puts nginx: not on a normal user's PATH. */
const DEBIAN_NGINX = '/usr/sbin/nginx';

/** The path of nginx: $SCALECTL_NGINX (as scripts/ensure-nginx.js), else `nginx` on PATH, else Debian's; undefined when none. */
export function findNginx() {
  if (process.env.SCALECTL_NGINX) return existsSync(process.env.SCALECTL_NGINX) ? process.env.SCALECTL_NGINX : undefined;
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
    if (onPath) return onPath;
  } catch { /* not on PATH */ }
  return existsSync(DEBIAN_NGINX) ? DEBIAN_NGINX : undefined;
}

/** A port that was free a moment ago: listen on port 0, read it, close. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to the port succeeds; rejects when `child` exits first or on timeout. */
async function waitForPort(port, child, describe) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${describe()}: exited before listening`);
    const ok = await new Promise((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${describe()}: not listening on 127.0.0.1:${port} after ${READY_TIMEOUT_MS} ms`);
}

/** Stops a child process: `signal`, then SIGKILL if it is still there after a while. */
function stopChild(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

function nginxConfig(dir, port, tempPaths) {
  // Temp paths only for the modules this build has (nginx-light lacks some; an unknown directive is fatal).
  const temps = tempPaths.map((name) => `    ${name}_temp_path ${join(dir, 'tmp', name)};`).join('\n');
  return `daemon off;
master_process on;
# One worker: on a small machine the generator needs the other cores.
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 8192; }
http {
  access_log off;
${temps}
  # Long keep-alive for both tools alike: no reconnects every 1000 requests (nginx's default).
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${port};
    location / {
      default_type text/plain;
      return 200 "ok\\n";
    }
  }
}
`;
}

async function startNginx(bin, dir, cpus) {
  // `nginx -V` prints its version and configure flags on stderr.
  const v = spawnSync(bin, ['-V'], { encoding: 'utf8' });
  const built = `${v.stdout ?? ''}${v.stderr ?? ''}`;
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((m) => m === 'client_body' || built.includes(`--http-${m}-temp-path`));
  const nginxDir = join(dir, cpus ? 'nginx-pinned' : 'nginx');
  for (const name of tempPaths) mkdirSync(join(nginxDir, 'tmp', name), { recursive: true });
  const port = await freePort();
  const conf = join(nginxDir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(nginxDir, port, tempPaths));
  // -e: the startup error log, before the config is read (nginx >= 1.19.5).
  const args = ['-p', nginxDir, '-c', conf, '-e', join(nginxDir, 'error.log')];
  // Under taskset the master and the worker it forks share the pinned cores; taskset execs nginx (same pid).
  const child = cpus ? spawn('taskset', ['-c', cpus, bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const describe = () => {
    let log = '';
    try { log = readFileSync(join(nginxDir, 'error.log'), 'utf8'); } catch { /* not written yet */ }
    return `nginx (${bin}) ${(stderr + log).trim().split('\n').slice(-3).join(' | ')}`;
  };
  const target = {
    kind: 'nginx',
    description: `nginx ${(/nginx\/(\S+)/.exec(built) ?? [])[1] ?? '(unknown version)'}, 1 worker process, \`return 200\` with a 3-byte body${cpus ? `, pinned to CPU ${cpus}` : ''}`,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    // SIGTERM: nginx's fast shutdown; the master takes its worker with it.
    stop: () => stopChild(child, 'SIGTERM'),
    killNow: () => { if (child.exitCode === null) child.kill('SIGTERM'); },
  };
  try {
    await waitForPort(port, child, describe);
  } catch (err) {
    await target.stop();
    throw err;
  }
  return target;
}

async function startNodeTarget(cpus) {
  const child = fork(new URL('./node-target.js', import.meta.url), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const target = {
    kind: 'node',
    description: `Node ${process.version} http server in a child process (static 3-byte body)${cpus ? `, pinned to CPU ${cpus}` : ''}`,
    url: '',
    pid: child.pid,
    stop: () => stopChild(child, 'SIGTERM'),
    killNow: () => { if (child.exitCode === null) child.kill('SIGTERM'); },
  };
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('node target: no port reported')), READY_TIMEOUT_MS);
      child.once('message', (m) => { clearTimeout(timer); resolve(m.port); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`node target exited (${code}) before listening`)); });
    });
    target.url = `http://127.0.0.1:${port}`;
    // Every thread it has (the main one and libuv's); nothing starts later that matters here.
    if (cpus) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(child.pid)], { stdio: 'ignore' });
  } catch (err) {
    await target.stop();
    throw err;
  }
  return target;
}

/**
 * Starts the target in `dir` (a fresh temporary directory). `prefer`: 'auto'
 * (nginx if installed), 'nginx' or 'node'. cpus: pin it with taskset (e.g. "1").
 * Returns { kind, description, url, pid, stop(), killNow() }.
 */
export async function startTarget(dir, prefer = 'auto', { cpus } = {}) {
  const nginx = prefer === 'node' ? undefined : findNginx();
  if (prefer === 'nginx' && !nginx) throw new Error('--target-kind nginx: nginx is not installed (scripts/ensure-nginx.js installs it)');
  return nginx ? startNginx(nginx, dir, cpus) : startNodeTarget(cpus);
}
