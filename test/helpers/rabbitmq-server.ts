import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { freePort } from './free-port.js';
import { tempFiles } from './temp-folders.js';

/**
 * A rabbitmq-server of the test's own (never the machine's): free loopback
 * ports, a node name, data and logs in a temporary folder, no plugins. Its
 * data survives `stop`/`start` (durable queues and persistent messages come
 * back), as a broker restart would keep them. Starting takes several seconds.
 */
export interface OwnRabbitMq {
  url: string;
  port: number;
  /** Stops the broker (SIGTERM, a clean shutdown) and waits for it to exit. */
  stop: () => Promise<void>;
  /** Starts it again on the same port with the same data. */
  start: () => Promise<void>;
  /** Closes every client connection of this broker (rabbitmqctl -n <its node> close_all_connections), which stays up: clients must reconnect. */
  closeConnections: () => Promise<void>;
}

/** Waits until an AMQP connection opens; fails after `timeoutMs`, or at once when the server exited (with its output). */
async function answers(url: string, timeoutMs: number, output: () => string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`rabbitmq-server exited before it answered at ${url}:\n${output().slice(-2_000)}`);
    try {
      const c = await connect(url, { timeout: 1_000 });
      await c.close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`rabbitmq-server did not answer at ${url} in ${timeoutMs} ms:\n${output().slice(-2_000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function startOwnRabbitMq(): Promise<OwnRabbitMq> {
  const [port, distPort] = [await freePort(), await freePort()];
  const dir = await tempFiles({ 'enabled_plugins': '[].\n' });
  await mkdir(join(dir, 'home'));
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HOME: join(dir, 'home'), // the Erlang cookie goes here, not in the machine's home
    RABBITMQ_NODENAME: `scalectl-t-${randomBytes(4).toString('hex')}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'none'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'none.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  let child: ChildProcess | undefined;
  let output = '';
  const start = async (): Promise<void> => {
    // Its own process group: stop signals the whole server (the script and the Erlang VM), nothing else.
    const c = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      // Slow on a loaded machine: several seconds idle, far more when the cores are busy.
      await answers(url, 60_000, () => output, () => c.exitCode !== null || c.signalCode !== null);
    } catch (err) {
      await stop(); // nothing of it left running
      throw err;
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const group = -c.pid!;
    process.kill(group, 'SIGTERM');
    // Until no process of the group is left (the Erlang VM may outlive the script), SIGKILL after 15 s.
    const alive = (): boolean => {
      try {
        process.kill(group, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 20_000;
    let killed = false;
    while (alive() && Date.now() < deadline) {
      if (!killed && Date.now() > deadline - 5_000) {
        process.kill(group, 'SIGKILL');
        killed = true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const closeConnections = (): Promise<void> => new Promise((resolve, reject) => {
    const ctl = spawn('/usr/lib/rabbitmq/bin/rabbitmqctl', ['-n', env.RABBITMQ_NODENAME, 'close_all_connections', 'test'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ctl.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    ctl.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => ctl.kill('SIGKILL'), 30_000);
    ctl.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`rabbitmqctl close_all_connections exited with ${code}:\n${out}`));
    });
  });
  await start();
  return { url, port, stop, start, closeConnections };
}
