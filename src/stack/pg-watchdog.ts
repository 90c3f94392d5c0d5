import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * A guard for embedded PostgreSQL that outlives the process that started it:
 * a tiny shell process holding the read end of a pipe from us. When we exit
 * in any way (a clean stop, an uncaught error, `kill -9`), the kernel closes
 * the pipe; on that end of file the watchdog stops the process groups it was
 * told about (SIGQUIT, PostgreSQL's immediate shutdown, then SIGKILL after 5 s
 * to the groups still alive), waits until they are gone and removes the temp
 * directory. Whole groups, because initdb runs a `postgres --single` child
 * in its group: a child still writing would race the removal. The
 * postmaster's children are not in its group (each calls setsid()): SIGQUIT
 * makes the postmaster stop them itself, and any left (a postmaster that
 * needed SIGKILL) are found by their working directory, inside the temp
 * directory, and get the same 5 s, then SIGKILL. After a clean stop we say
 * `done` first and it leaves without touching anything.
 *
 * It runs in a session of its own, so a terminal Ctrl-C does not reach it,
 * and it does not keep our event loop alive.
 */
export interface PgWatchdog {
  /** Stop this process group too if we die (initdb's, then the postmaster's); `pgid` is its leader's pid. */
  watch: (pgid: number) => void;
  /** This process group is gone: forget it (its id may be reused). */
  forget: (pid: number) => void;
  /** We cleaned up ourselves: the watchdog exits without doing anything. */
  done: () => void;
}

/*
 * $1 is the directory to remove. Lines: "+PGID" watch, "-PGID" forget, "done".
 * End of file without "done" means the parent died. Only groups seen alive
 * in the last poll get SIGKILL: a group gone may have its id reused (we run as
 * root). `kill -0 -PGID` succeeds while any process of the group exists.
 */
const SCRIPT = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    done) exit 0 ;;
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
  esac
done
alive() {
  left=
  for g in $1; do kill -0 "-$g" 2>/dev/null && left="$left $g"; done
}
wait_gone() {
  i=0
  alive "$left"
  while [ -n "$left" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
    alive "$left"
  done
}
for g in $groups; do kill -QUIT "-$g" 2>/dev/null; done
left=$groups
wait_gone
if [ -n "$left" ]; then
  for g in $left; do kill -KILL "-$g" 2>/dev/null; done
  wait_gone
fi
top=$(cd "$1" 2>/dev/null && pwd -P)
orphans() {
  left=
  [ -n "$top" ] || return 0
  for p in /proc/[0-9]*; do
    case $(readlink "$p/cwd" 2>/dev/null) in "$top"/*) left="$left \${p#/proc/}" ;; esac
  done
}
orphans_gone() {
  i=$1
  orphans
  while [ -n "$left" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
    orphans
  done
}
orphans_gone 0
if [ -n "$left" ]; then
  kill -KILL $left 2>/dev/null
  orphans_gone 40
fi
rm -rf "$1"
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
    watch: (pgid) => send(`+${pgid}`),
    forget: (pgid) => send(`-${pgid}`),
    done: () => {
      send('done');
      pipe.end();
    },
  };
}
