import { createHash } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync } from 'node:zlib';

/*
 * Reads results framed by `scalectl run --out -` back out of a log
 * (the frame's format is docs/results.md#framed-results; frameResult in
 * result-frame.ts writes it): one pod's output, or the interleaved output of
 * `kubectl logs -l job-name=... --prefix`, where every line starts with
 * `[pod/<pod>/<container>] ` and the pods' lines may interleave.
 */

/** A result read from a frame: where it came from (`pod/<pod>/<container>`, or the given source) and its JSON. */
export interface ReadFrame {
  source: string;
  /** The frame's label: `I/N` for a shard, `-` for a whole run. */
  label: string;
  json: string;
}

/** A frame that cannot be read (cut short, altered): the message names its source. */
export class FrameError extends Error {
  constructor(message: string, readonly source: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const BEGIN_RE = /^-----BEGIN SCALECTL RESULT (\d+\/\d+|-) ([0-9a-f]{64})-----$/;
const END_LINE = '-----END SCALECTL RESULT-----';
/** kubectl logs --prefix: `[pod/<pod>/<container>] ` before each line. */
const PREFIX_RE = /^\[([a-z]+\/[^\s/\]]+\/[^\s\]]+)\] ?/;
const BASE64_LINE_RE = /^[A-Za-z0-9+/]+={0,2}$/;

interface OpenFrame {
  label: string;
  sha: string;
  lines: string[];
}

function decode(frame: OpenFrame, source: string, maxJsonBytes: number): string {
  const what = `result frame ${frame.label} from ${source}`;
  let bytes: Buffer;
  try {
    bytes = gunzipSync(Buffer.from(frame.lines.join(''), 'base64'), { maxOutputLength: maxJsonBytes });
  } catch (err) {
    const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new FrameError(tooBig ? `${what}: its result is over the limit of ${Math.round(maxJsonBytes / 2 ** 20)} MiB`
      : `${what}: not gzip in base64 (the log was cut or altered: ${(err as Error).message})`, source);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== frame.sha) throw new FrameError(`${what}: checksum mismatch (sha256 ${sha.slice(0, 12)}…, the frame says ${frame.sha.slice(0, 12)}…): the log was cut or altered`, source);
  return bytes.toString('utf8');
}

/**
 * Every framed result in `text`, in the order their END lines come. Lines
 * with a kubectl `--prefix` are sorted out by their prefix (their source);
 * lines without one belong to `opts.source`. Other lines (a summary, progress,
 * warnings) are skipped, inside a frame too: only base64 lines are its data,
 * and its checksum proves nothing was lost. A frame with no END line, an END
 * line with no frame begun (the log's head cut off), or a frame whose data
 * does not match its checksum, is a FrameError naming its source.
 */
export function readFrames(text: string, opts: { source?: string; maxJsonBytes?: number } = {}): ReadFrame[] {
  const fallback = opts.source ?? 'input';
  const maxJsonBytes = opts.maxJsonBytes ?? bufferConstants.MAX_LENGTH;
  const open = new Map<string, OpenFrame>();
  const frames: ReadFrame[] = [];
  for (const raw of text.split('\n')) {
    const prefixed = PREFIX_RE.exec(raw);
    const source = prefixed ? prefixed[1]! : fallback;
    const line = (prefixed ? raw.slice(prefixed[0].length) : raw).trimEnd();
    const frame = open.get(source);
    const begin = BEGIN_RE.exec(line);
    if (begin) {
      if (frame) throw new FrameError(`result frame ${frame.label} from ${source} has no END line: another frame begins before it ends (the log was cut)`, source);
      open.set(source, { label: begin[1]!, sha: begin[2]!, lines: [] });
    } else if (line === END_LINE) {
      // kubectl logs -l prints each pod's last 10 lines unless --tail=-1: the END of a frame, none of its beginning.
      if (!frame) throw new FrameError(`the end of a framed result from ${source} without its beginning: collect the whole log (kubectl logs --tail=-1)`, source);
      open.delete(source);
      frames.push({ source, label: frame.label, json: decode(frame, source, maxJsonBytes) });
    } else if (frame && BASE64_LINE_RE.test(line)) frame.lines.push(line);
  }
  for (const [source, frame] of open) {
    throw new FrameError(`result frame ${frame.label} from ${source} has no END line (the log was cut short; collect it whole, e.g. kubectl logs --tail=-1)`, source);
  }
  return frames;
}
