import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * A guard for embedded PostgreSQL that outlives the process that started it:
 * a tiny shell process holding the read end of a pipe from us. When we exit
 * in any way (a clean stop, an uncaught error, `kill -9`), the kernel closes
 * the pipe; on that end of file the watchdog stops the processes it was told
 * about (SIGQUIT, PostgreSQL's immediate shutdown, then SIGKILL after 5 s)
 * and removes the temp directory. After a clean stop we say `done` first and
 * it leaves without touching anything.
 *
 * It runs in a session of its own, so a terminal Ctrl-C does not reach it,
 * and it does not keep our event loop alive.
 */
export interface PgWatchdog {
  /** Stop this process too if we die (initdb, then the postmaster). */
  watch: (pid: number) => void;
  /** This process has exited: forget it (its pid may be reused). */
  forget: (pid: number) => void;
  /** We cleaned up ourselves: the watchdog exits without doing anything. */
  done: () => void;
}

/*
 * $1 is the directory to remove. Lines: "+PID" watch, "-PID" forget, "done".
 * End of file without "done" means the parent died.
 */
const SCRIPT = `
pids=" "
while IFS= read -r line; do
  case "$line" in
    done) exit 0 ;;
    +*) pids="$pids\${line#+} " ;;
    -*) pids=$(printf '%s' "$pids" | sed "s/ \${line#-} / /") ;;
  esac
done
for p in $pids; do kill -QUIT "$p" 2>/dev/null; done
i=0
while [ $i -lt 50 ]; do
  alive=
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.1
  i=$((i + 1))
done
for p in $pids; do kill -KILL "$p" 2>/dev/null; done
# A child of initdb may still be writing for a moment after initdb itself is gone.
rm -rf "$1" 2>/dev/null || { sleep 1; rm -rf "$1"; }
`;

/** Starts the watchdog for one embedded server and its temp directory `dir`. */
export function startPgWatchdog(dir: string): PgWatchdog {
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'scalectl-pg-watchdog', dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  const pipe = child.stdin!;
  (pipe as Socket).unref?.();
  // If the watchdog cannot start or dies, the server still runs; only the last-resort cleanup is lost.
  child.on('error', () => undefined);
  pipe.on('error', () => undefined);
  const send = (line: string): void => {
    if (pipe.writable) pipe.write(line + '\n');
  };
  return {
    watch: (pid) => send(`+${pid}`),
    forget: (pid) => send(`-${pid}`),
    done: () => {
      send('done');
      pipe.end();
    },
  };
}
