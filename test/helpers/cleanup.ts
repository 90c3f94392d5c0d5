import { rm } from 'node:fs/promises';
import { afterAll, vi } from 'vitest';
import { madeFolders } from './temp-folders.js';

// Every test file's temporary folders go when the file is done (they held scenarios and results).
afterAll(async () => {
  await Promise.all(madeFolders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

// Pure test files share one worker (vitest.config.ts): a file's fake timers must not outlive it.
afterAll(() => {
  vi.useRealTimers();
});
