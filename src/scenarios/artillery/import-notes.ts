import { isMap, isNode, type Document, type LineCounter } from 'yaml';
import { formatPath } from '../scenario-issue.js';
import { printable } from '../../shared/printable.js';

export type NotePath = readonly (string | number)[];

/** One thing the importer could not translate, or translated with a difference worth knowing. */
export interface ImportNote {
  /** `untranslated`: left out (or left as written), and the import exits 9; `note`: translated, with a difference. */
  kind: 'untranslated' | 'note';
  line: number;
  col: number;
  /** Where in the Artillery script, e.g. `scenarios[0].flow[2].function`. */
  path: string;
  message: string;
}

/**
 * Collects what the importer left out, each with its place in the script
 * (line:col from the YAML's node ranges), in the order found.
 */
export class ImportNotes {
  readonly list: ImportNote[] = [];
  /** Paths written elsewhere than where they are read from: [read as, written at]. */
  private readonly moved: [NotePath, NotePath][] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Left out: `message` says what and why. */
  untranslated(path: NotePath, message: string): void {
    this.add('untranslated', path, message);
  }

  /** Translated, with a difference from Artillery that `message` explains. */
  note(path: NotePath, message: string): void {
    this.add('note', path, message);
  }

  /** Notes on `readAs` (and below) point to `writtenAt`: settings merged in from an Artillery environment. */
  move(readAs: NotePath, writtenAt: NotePath): void {
    this.moved.push([readAs, writtenAt]);
  }

  private add(kind: ImportNote['kind'], given: NotePath, message: string): void {
    const move = this.moved.find(([from]) => from.every((p, i) => given[i] === p));
    const movedPath = move ? [...move[1], ...given.slice(move[0].length)] : undefined;
    // A key merged from the base config (config.plugins.x beside an environment's plugins.y) stays where it is written.
    const path = movedPath && (this.doc.hasIn(movedPath) || !this.doc.hasIn(given)) ? movedPath : given;
    if (this.list.some((n) => n.kind === kind && n.path === formatPath(path) && n.message === message)) return;
    this.list.push({ kind, ...this.at(path), path: formatPath(path), message });
  }

  /** The place of the key at `path` (of its value when it has no key), else of its nearest parent. */
  private at(path: NotePath): { line: number; col: number } {
    if (path.length > 0) {
      const parent = this.doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === path[path.length - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return this.lines.linePos(pair.key.range[0]);
      }
    }
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  }
}

/** `script.yml:12:5 scenarios[0].flow[2].function: ...`, as validate prints scenario issues. */
export function formatNote(file: string, n: ImportNote): string {
  return `${printable(file)}:${n.line}:${n.col} ${n.path || '(script)'}: ${n.kind === 'note' ? 'note: ' : ''}${printable(n.message)}`;
}
