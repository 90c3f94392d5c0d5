/**
 * A pass rate as a percentage with `decimals` decimals, never rounded to
 * 100% while a check failed nor to 0% while one passed: 9999 passes and 1
 * fail read 99.9%, not 100.0%. `-` when nothing was counted.
 */
export function passRate(passes: number, fails: number, decimals: number, none = '-'): string {
  const n = passes + fails;
  if (n === 0) return none;
  const step = 10 ** -decimals;
  let v = (passes / n) * 100;
  if (fails > 0) v = Math.min(v, 100 - step);
  if (passes > 0) v = Math.max(v, step);
  return `${v.toFixed(decimals)}%`;
}
