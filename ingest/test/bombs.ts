/**
 * Hostile remote-write bodies for tests and benchmarks, built by hand in the
 * snappy block format (varint uncompressed length, then literals and
 * copies): a decompression bomb is one short series literal followed by
 * back-references that repeat it, so a few MB of body declare and expand to
 * hundreds of MB of valid remote-write 1.0 series.
 */

/** The uncompressed-length preamble of a snappy block: a little-endian base-128 varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/**
 * One remote-write 1.0 `TimeSeries` field of exactly 35 bytes (tag and
 * length included): `{__name__="bomb_value"}` with one sample of value 0 at `timestamp`.
 */
export function bombSeries(timestamp: number): Buffer {
  const label = Buffer.from([
    0x0a,
    0x08,
    ...Buffer.from('__name__'),
    0x12,
    0x0a,
    ...Buffer.from('bomb_value'),
  ]);
  // The value is left out (0, the protobuf default); the timestamp of now takes 6 bytes.
  const sample = Buffer.from([0x10, ...varint(timestamp)]);
  const series = Buffer.concat([
    Buffer.from([0x0a, label.length]),
    label,
    Buffer.from([0x12, sample.length]),
    sample,
  ]);
  const body = Buffer.concat([Buffer.from([0x0a, series.length]), series]);
  if (body.length !== 35) throw new Error(`the bomb series is ${body.length} bytes, not 35`);
  return body;
}

/**
 * A snappy body that expands to `series` copies of `literal` (a whole
 * number of series, so it is a valid WriteRequest): the literal once, then
 * 64-byte copies at offset `literal.length` (3 bytes each, so about 21x),
 * and a last shorter copy. `declared` overrides the length written in the
 * preamble (a lie the decompressor must catch).
 */
export function snappyBomb(literal: Buffer, series: number, declared?: number): Buffer {
  const total = literal.length * series;
  const parts: number[] = [...varint(declared ?? total)];
  // A literal of up to 60 bytes: tag (len-1)<<2 | 0b00.
  parts.push(((literal.length - 1) << 2) | 0, ...literal);
  const head = Buffer.from(parts);
  let left = total - literal.length;
  const copies = Math.floor(left / 64);
  left -= copies * 64;
  // A copy with a 2-byte offset: tag (len-1)<<2 | 0b10, offset little-endian.
  const copy = Buffer.from([(63 << 2) | 2, literal.length & 0xff, literal.length >> 8]);
  const body = Buffer.allocUnsafe(head.length + copies * 3 + (left > 0 ? 3 : 0));
  head.copy(body, 0);
  let at = head.length;
  for (let i = 0; i < copies; i++) {
    copy.copy(body, at);
    at += 3;
  }
  if (left > 0) {
    body[at] = ((left - 1) << 2) | 2;
    body[at + 1] = literal.length & 0xff;
    body[at + 2] = literal.length >> 8;
  }
  return body;
}

/** A bomb of about `compressedBytes` of body, with the series count it expands to. */
export function bombOfSize(compressedBytes: number, timestamp: number): { body: Buffer; series: number } {
  const literal = bombSeries(timestamp);
  // Each 3-byte copy adds 64 bytes of output.
  const series = Math.floor(((compressedBytes / 3) * 64) / literal.length);
  return { body: snappyBomb(literal, series), series };
}
