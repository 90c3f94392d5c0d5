import { describe, expect, it } from 'vitest';
import { echo, nameList, printable } from './printable.js';

describe('printable: user text made safe for one terminal line', () => {
  it('escapes terminal escapes, line breaks, C1 controls and bidi overrides, and leaves other text alone', () => {
    expect(printable('\x1b[2Jcheckout\r\nnext\u009b31m\u202etxt.exe')).toBe('\\x1b[2Jcheckout\\r\\nnext\\x9b31m\\u202etxt.exe');
    expect(printable('Zoë buys 日本 ✓')).toBe('Zoë buys 日本 ✓');
  });

  it('cuts long text with an ellipsis', () => {
    expect(printable('x'.repeat(100), 10)).toBe('xxxxxxxxxx…');
    expect(printable('short', 10)).toBe('short');
  });
});

describe('echo: a value quoted in an error message', () => {
  it('quotes strings, escaping quotes and control characters, and cuts long ones giving their length', () => {
    expect(echo('ten')).toBe('"ten"');
    expect(echo('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(echo('a'.repeat(50_000_000))).toBe(`"${'a'.repeat(60)}…" (50000000 characters)`);
  });

  it('writes infinities and NaN as YAML does, not as null', () => {
    expect([echo(Infinity), echo(-Infinity), echo(NaN), echo(1.5)]).toEqual(['.inf', '-.inf', '.nan', '1.5']);
  });

  it('describes other values in words', () => {
    expect([echo(undefined), echo(null), echo([1]), echo({ a: 1 }), echo(true)]).toEqual(['nothing', 'null', 'a list', 'a mapping', 'true']);
  });
});

describe('nameList', () => {
  it('lists at most 20 names, escaped, then how many more', () => {
    const names = Array.from({ length: 25 }, (_, i) => `n${i}`);
    expect(nameList(names)).toBe(`${names.slice(0, 20).join(', ')}, … (5 more)`);
    expect(nameList(['a\x1bb'])).toBe('a\\x1bb');
  });
});
