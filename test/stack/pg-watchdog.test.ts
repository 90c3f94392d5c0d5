import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/shop.js';
import { childrenOf } from '../helpers/processes.js';
import { madeFolders } from '../helpers/temp-folders.js';

// The watchdog outlives the process that started it, so that process is a
// small script here (importing the built module, as bin/scalectl.js does),
// killed with SIGKILL.
const WATCHDOG = new URL('../../dist/stack/pg-watchdog.js', import.meta.url).href;

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
});

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the embedded PostgreSQL watchdog', () => {
  it('when its parent is killed, stops the whole process group it watches (the leader\'s child too, as initdb\'s postgres --single), then removes the directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
    madeFolders.push(dir);
    await writeFile(join(dir, 'data'), 'x');
    // A leader that dies on SIGQUIT and a child of it in its group (`; :` keeps sh from exec'ing sleep).
    const group = spawn('/bin/sh', ['-c', 'sleep 30; :'], { detached: true, stdio: 'ignore' });
    started.push(group);
    const pgid = group.pid!;
    await eventually(async () => (await childrenOf(pgid)).length > 0, 5000, 'the leader\'s child started');

    const parent = spawn(process.execPath, ['--input-type=module', '-e',
      `const { startPgWatchdog } = await import(${JSON.stringify(WATCHDOG)});
       startPgWatchdog(${JSON.stringify(dir)}).watch(${pgid});
       process.stdout.write('watching\\n');
       setInterval(() => undefined, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(parent);
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(async () => out.includes('watching'), 5000, 'the watchdog started');
    parent.kill('SIGKILL');

    await eventually(async () => !groupAlive(pgid) && !existsSync(dir), 4000, 'the whole group stopped and the directory removed');
    expect(groupAlive(pgid)).toBe(false);
  });
});
