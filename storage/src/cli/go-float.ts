/**
 * Formats a float as Go's fmt %g does (what `promtool tsdb dump` prints):
 * shortest digits, exponent form when the exponent is below -4 or at least 6
 * (with at least two exponent digits), NaN, +Inf, -Inf.
 */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const e = v.toExponential();
  const at = e.indexOf('e');
  const exp = Number(e.slice(at + 1));
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${e.slice(0, at)}e${sign}${digits}`;
  }
  // In this range JavaScript prints plain decimals with the same shortest digits.
  return String(v);
}
