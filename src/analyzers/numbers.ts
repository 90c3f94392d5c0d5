/** Small number helpers every analyzer and report needs, in one place. */

/** `v` rounded to `digits` decimals. */
export const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** A share (0.0123) as a percentage with up to `digits` decimals ("1.23%"). */
export const percent = (share: number, digits = 2): string => `${round(share * 100, digits)}%`;

/** "1 replica", "2 replicas". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
