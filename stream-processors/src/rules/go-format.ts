/**
 * Number formatting as Go's fmt and Prometheus' template functions write it,
 * so that an annotation reads the same here as in Prometheus.
 */

/** Go's `%v` / `strconv.FormatFloat(f, 'g', -1, 64)` of a float64. */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  // strconv's shortest %g switches to the exponent form from 1e+06 on and below 1e-04.
  if (exp < -4 || exp >= 6) return goExponent(mant, exp);
  return String(v);
}

/** Go's `%.<prec>g`. */
export function goG(v: number, prec: number): string {
  if (!Number.isFinite(v)) return goFloat(v);
  if (v === 0) return '0';
  const p = prec === 0 ? 1 : prec;
  const [mant, expText] = v.toExponential(p - 1).split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('-', '').replace('.', '').replace(/0+$/, '') || '0';
  let eprec = p;
  if (eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  if (exp < -4 || exp >= eprec)
    return goExponent(mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant, exp);
  return trimZeros(v.toFixed(Math.max(0, p - 1 - exp)));
}

/** Go's `%.<prec>f`. */
export function goF(v: number, prec: number): string {
  if (!Number.isFinite(v)) return goFloat(v);
  return v.toFixed(prec);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function goExponent(mant: string, exp: number): string {
  const sign = exp < 0 ? '-' : '+';
  const e = Math.abs(exp);
  return `${mant}e${sign}${e < 10 ? `0${e}` : e}`;
}

const BIG = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SMALL = ['', 'm', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

/** Prometheus' `humanize`: SI prefixes, four significant digits. */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return goG(v, 4);
  let x = v;
  if (Math.abs(x) >= 1) {
    let i = 0;
    while (Math.abs(x) >= 1000 && i < BIG.length - 1) {
      x /= 1000;
      i++;
    }
    return `${goG(x, 4)}${BIG[i]}`;
  }
  let i = 0;
  while (Math.abs(x) < 1 && i < SMALL.length - 1) {
    x *= 1000;
    i++;
  }
  return `${goG(x, 4)}${SMALL[i]}`;
}

/** Prometheus' `humanize1024`: binary prefixes. */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return goG(v, 4);
  const prefixes = ['', 'ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < prefixes.length - 1) {
    x /= 1024;
    i++;
  }
  return `${goG(x, 4)}${prefixes[i]}`;
}

/** Prometheus' `humanizeDuration` of seconds: `1d 2h 3m 4s`, or `1.5ms` below a second. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goG(v, 4);
  if (v === 0) return '0s';
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    const a = Math.abs(v);
    const days = Math.floor(a / 86400);
    const hours = Math.floor(a / 3600) % 24;
    const minutes = Math.floor(a / 60) % 60;
    const seconds = Math.floor(a) % 60;
    const ms = a % 1;
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${goG(seconds + ms, 4)}s`;
  }
  const units = ['', 'm', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
  let x = v;
  let i = 0;
  while (Math.abs(x) < 1 && i < units.length - 1) {
    x *= 1000;
    i++;
  }
  return `${goG(x, 4)}${units[i]}s`;
}

/** Prometheus' `humanizePercentage`: a ratio as a percentage. */
export function humanizePercentage(v: number): string {
  return `${goG(v * 100, 4)}%`;
}

/** Prometheus' `humanizeTimestamp` of Unix seconds, as Go prints a UTC time. */
export function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return goG(v, 4);
  const d = new Date(v * 1000);
  const iso = d.toISOString();
  const frac = Math.round((v % 1) * 1e9);
  const nanos = frac === 0 ? '' : `.${String(frac).padStart(9, '0').replace(/0+$/, '')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${nanos} +0000 UTC`;
}
