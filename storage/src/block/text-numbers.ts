/**
 * Numbers of the text formats, read straight from bytes. Integers of up to
 * 15 digits and decimals of up to 15 significant digits take a fast path; anything else goes through
 * Number(), which rounds correctly as Go's strconv.ParseFloat does.
 */

/** Go's math.NaN() bits (0x7ff8000000000001), so a backfilled NaN encodes as Prometheus encodes it. */
export const GO_NAN = new Float64Array(new BigUint64Array([0x7ff8000000000001n]).buffer)[0]!;

const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const HEX = /^[-+]?0[xX][0-9a-fA-F]+$/;

/** Exact powers of ten (every one up to 1e22 is a float64 without rounding). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * A decimal of up to 15 significant digits without exponent, or undefined.
 * The digits make an exact integer and 10^k is exact, so one division
 * rounds correctly, as Number() and Go's ParseFloat do (Clinger's fast path).
 */
function fastDecimal(b: Uint8Array, s: number, e: number): number | undefined {
  let p = s;
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    p++;
  } else if (b[p] === 0x2b) p++;
  if (p === e) return undefined;
  let n = 0;
  let digits = 0;
  let frac = -1;
  for (; p < e; p++) {
    const c = b[p]!;
    if (c === 0x2e) {
      if (frac >= 0) return undefined;
      frac = 0;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
    if (++digits > 15) return undefined;
    if (frac >= 0) frac++;
  }
  if (digits === 0) return undefined;
  const v = frac > 0 ? n / POW10[frac]! : n;
  return neg ? -v : v;
}

/** Integer of up to 15 digits with an optional sign, or undefined when the token is not one. */
function fastInt(b: Uint8Array, s: number, e: number): number | undefined {
  let p = s;
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    p++;
  } else if (b[p] === 0x2b) p++;
  if (p === e || e - p > 15) return undefined;
  let n = 0;
  for (; p < e; p++) {
    const d = b[p]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

function text(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** A float as Go's ParseFloat reads it (NaN, ±Inf in any case), or undefined. */
export function parseFloatToken(b: Uint8Array, s: number, e: number): number | undefined {
  const n = fastDecimal(b, s, e);
  if (n !== undefined) return n;
  const t = text(b, s, e);
  if (FLOAT.test(t) || HEX.test(t)) return Number(t);
  switch (t.toLowerCase()) {
    case 'nan':
      return GO_NAN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
  }
  return undefined;
}

/** A signed decimal integer that fits a float64 exactly, or undefined. */
export function parseIntToken(b: Uint8Array, s: number, e: number): number | undefined {
  const n = fastInt(b, s, e);
  if (n !== undefined) return n;
  const t = text(b, s, e);
  if (!/^[-+]?\d+$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isSafeInteger(v) ? v : undefined;
}
