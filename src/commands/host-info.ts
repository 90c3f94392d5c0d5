import { readFileSync } from 'node:fs';
import { versions } from 'node:process';
import { arch, availableParallelism, cpus, hostname, platform, release, totalmem } from 'node:os';
import type { HostInfo } from '../analyzers/run-result.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The machine the generator ran on, for the record (RunResult.host). */
export function hostInfo(): HostInfo {
  return {
    hostname: hostname(),
    os: `${platform()} ${release()} ${arch()}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: versions.node,
    scalectl: VERSION,
  };
}
