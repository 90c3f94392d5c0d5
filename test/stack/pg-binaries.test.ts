import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pgBinaries, removeAbandonedCopies, unreachableDir, type DirStat } from '../../src/stack/pg-binaries.js';

const run = promisify(execFile);

describe('unreachableDir (can PostgreSQL\'s user get to its binaries?)', () => {
  const pgUser = { uid: 999, gid: 999 };
  const tree: Record<string, DirStat> = {
    '/': { mode: 0o755, uid: 0, gid: 0 },
    '/root': { mode: 0o700, uid: 0, gid: 0 },
    '/root/shop': { mode: 0o755, uid: 0, gid: 0 },
    '/tmp': { mode: 0o1777, uid: 0, gid: 0 },
    '/tmp/tmp.x': { mode: 0o700, uid: 0, gid: 0 },
    '/srv': { mode: 0o750, uid: 0, gid: 999 },
    '/home': { mode: 0o755, uid: 0, gid: 0 },
    '/home/pg': { mode: 0o700, uid: 999, gid: 999 },
  };
  const stat = (dir: string): DirStat => tree[dir] ?? { mode: 0o755, uid: 0, gid: 0 };

  it('names the first directory closed to the user: a project under /root, or cloned into mktemp -d', () => {
    expect(unreachableDir('/root/shop/node_modules/bin/postgres', pgUser, stat)).toBe('/root');
    expect(unreachableDir('/tmp/tmp.x/c/node_modules/bin/postgres', pgUser, stat)).toBe('/tmp/tmp.x');
  });

  it('lets through what the user may enter as owner, group or other, and everything for root', () => {
    expect(unreachableDir('/usr/lib/bin/postgres', pgUser, stat)).toBeUndefined();
    expect(unreachableDir('/srv/app/bin/postgres', pgUser, stat)).toBeUndefined();
    expect(unreachableDir('/home/pg/app/bin/postgres', pgUser, stat)).toBeUndefined();
    expect(unreachableDir('/srv/app/bin/postgres', { uid: 1000, gid: 1000 }, stat)).toBe('/srv');
    expect(unreachableDir('/root/shop/bin/postgres', { uid: 0, gid: 0 }, stat)).toBeUndefined();
  });
});

// As root (CI and this machine), with the real `nobody` account: a fake package whose `postgres` is a script.
const root = userInfo().uid === 0;
const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

async function fakePackage(): Promise<{ closed: string; pkg: { initdb: string; postgres: string } }> {
  const closed = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
  made.push(closed);
  const native = join(closed, 'pkg', 'native');
  await mkdir(join(native, 'bin'), { recursive: true });
  await mkdir(join(native, 'lib'));
  await writeFile(join(closed, 'pkg', 'package.json'), JSON.stringify({ version: `0.0.0-test-${Date.now()}` }));
  for (const name of ['initdb', 'postgres']) await writeFile(join(native, 'bin', name), '#!/bin/sh\necho "$0 ran"\n', { mode: 0o755 });
  await writeFile(join(native, 'lib', 'libstatic.a'), 'not needed');
  // As installed under umask 077: a folder and a file only their owner may read.
  await mkdir(join(native, 'share'), { mode: 0o700 });
  await writeFile(join(native, 'share', 'postgres.bki'), 'needed by initdb', { mode: 0o600 });
  return { closed, pkg: { initdb: join(native, 'bin', 'initdb'), postgres: join(native, 'bin', 'postgres') } };
}

async function nobody() {
  const [u, g] = await Promise.all([run('id', ['-u', 'nobody']), run('id', ['-g', 'nobody'])]);
  return { name: 'nobody', uid: Number(u.stdout), gid: Number(g.stdout) };
}

/** A temp dir every user can enter, as /tmp is: where the copy goes. */
async function openCache(): Promise<string> {
  const cache = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
  made.push(cache);
  await chmod(cache, 0o755);
  return cache;
}

describe.runIf(root)('pgBinaries (as root, PostgreSQL runs as another user)', () => {
  it('copies binaries the server user cannot reach to a temp dir it can, once, and they run there as that user', async () => {
    const { closed, pkg } = await fakePackage();
    const cache = await openCache();
    const user = await nobody();
    // Before: the server user cannot even start it.
    await expect(run(pkg.postgres, [], { uid: user.uid, gid: user.gid })).rejects.toThrow(/EACCES/);

    const bin = await pgBinaries(user, { package: pkg, tmp: cache });
    expect(bin.postgres.startsWith(cache)).toBe(true);
    expect(bin.copied).toContain(`"nobody" user`);
    expect(bin.copied).toContain(`cannot enter ${closed} (mode 0700, owner uid 0)`);
    expect((await run(bin.postgres, [], { uid: user.uid, gid: user.gid })).stdout).toContain('ran');
    expect((await run(bin.initdb, [], { uid: user.uid, gid: user.gid })).stdout).toContain('ran');
    await expect(run('test', ['-e', join(bin.postgres, '..', '..', 'lib', 'libstatic.a')])).rejects.toThrow();

    // The second stack reuses the copy.
    const again = await pgBinaries(user, { package: pkg, tmp: cache });
    expect(again.postgres).toBe(bin.postgres);
  });

  it('runs reachable binaries in place, and says what to do when even the temp dir is closed', async () => {
    const { closed, pkg } = await fakePackage();
    const user = await nobody();
    await chmod(closed, 0o755);
    expect(await pgBinaries(user, { package: pkg, tmp: closed })).toEqual(pkg);
    await chmod(closed, 0o700);
    await expect(pgBinaries(user, { package: pkg, tmp: closed })).rejects.toThrow(/set TMPDIR to a directory other users can enter.*chmod o\+x/);
  });

  it('makes the whole copy readable by the server user, though the package was installed under umask 077', async () => {
    const { pkg } = await fakePackage();
    const cache = await openCache();
    const user = await nobody();
    const bin = await pgBinaries(user, { package: pkg, tmp: cache });
    const share = join(bin.postgres, '..', '..', 'share', 'postgres.bki');
    expect((await run('cat', [share], { uid: user.uid, gid: user.gid })).stdout).toBe('needed by initdb');
  });

  it('copies again when the copy is no longer as it was made: a file removed (a temp cleaner), or closed to the server user', async () => {
    const { pkg } = await fakePackage();
    const cache = await openCache();
    const user = await nobody();
    const bin = await pgBinaries(user, { package: pkg, tmp: cache });
    const share = join(bin.postgres, '..', '..', 'share');
    await rm(join(share, 'postgres.bki'));
    await pgBinaries(user, { package: pkg, tmp: cache });
    expect(existsSync(join(share, 'postgres.bki'))).toBe(true);

    await chmod(share, 0o700);
    await pgBinaries(user, { package: pkg, tmp: cache });
    expect((await run('cat', [join(share, 'postgres.bki')], { uid: user.uid, gid: user.gid })).stdout).toBe('needed by initdb');
  });
});

describe('removeAbandonedCopies (a copy of the binaries interrupted by kill -9)', () => {
  it('removes a copy in the making whose copier is gone, or that is older than 10 minutes; keeps one whose copier runs', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'scalectl-test-'));
    made.push(tmp);
    const gone = spawn('true');
    const deadPid = await new Promise<number>((resolve) => gone.once('exit', () => resolve(gone.pid!)));
    const partial = async (name: string, owner?: number): Promise<void> => {
      await mkdir(join(tmp, name, 'bin'), { recursive: true });
      if (owner) await writeFile(join(tmp, name, '.scalectl-owner'), String(owner));
    };
    await partial('scalectl-pg-bin-17.5.0-partial-aaaaaa', deadPid);
    await partial('scalectl-pg-bin-17.5.0-partial-bbbbbb', process.pid);
    await partial('scalectl-pg-bin-17.5.0-partial-cccccc'); // just made: its owner file is not written yet
    await partial('scalectl-pg-bin-17.5.0-partial-dddddd'); // left for an hour
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(join(tmp, 'scalectl-pg-bin-17.5.0-partial-dddddd'), hourAgo, hourAgo);
    await partial('scalectl-pg-bin-17.5.0', deadPid); // a finished copy is not touched

    await removeAbandonedCopies(tmp);
    expect((await readdir(tmp)).sort()).toEqual(['scalectl-pg-bin-17.5.0', 'scalectl-pg-bin-17.5.0-partial-bbbbbb', 'scalectl-pg-bin-17.5.0-partial-cccccc']);
  });
});
