/**
 * Numbers of the text formats, read straight from bytes. Integers of up to
 * 15 digits (exact in a float64) take a fast path; anything else goes through
 * Number(), which rounds correctly as Go's strconv.ParseFloat does.
 */

/** Go's math.NaN() bits (0x7ff8000000000001), so a backfilled NaN encodes as Prometheus encodes it. */
export const GO_NAN = new Float64Array(new BigUint64Array([0x7ff8000000000001n]).buffer)[0]!;

const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const HEX = /^[-+]?0[xX][0-9a-fA-F]+$/;

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
  const n = fastInt(b, s, e);
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
