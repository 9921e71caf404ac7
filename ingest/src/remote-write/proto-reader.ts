/**
 * A minimal protobuf reader over a Uint8Array for the remote-write decoders:
 * varints, fixed64 doubles, length-delimited slices and skipping of unknown
 * fields. Every read checks the buffer bound and throws `ProtoReadError`, which
 * the decoders turn into a MalformedRequest.
 */

/** A malformed protobuf input (truncated, bad varint, bad wire type). */
export class ProtoReadError extends Error {}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

export { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT };

const textDecoder = new TextDecoder('utf-8');

/** Slots of the string table: a power of two, well above the distinct label strings of a request. */
const INTERN_SLOTS = 4096;
/** Strings up to this many bytes are interned. */
const INTERN_MAX = 64;

export class ProtoReader {
  pos: number;
  private readonly view: DataView;
  /**
   * Short ASCII strings already made, by a hash of their bytes. A request
   * repeats a few label names and values thousands of times; giving back
   * the same string allocates nothing and lets later Map and Set lookups
   * reuse the string's cached hash. A collision only replaces the entry.
   */
  private readonly interned: (string | undefined)[] = new Array(INTERN_SLOTS);

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    /** Exclusive end of the readable range. */
    public end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Reads a varint of up to 32 significant bits as an unsigned number (field tags, lengths). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) throw new ProtoReadError(`truncated varint at offset ${pos}`);
      const b = buf[pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else if (shift === 28) result += (b & 0x0f) * 0x10000000;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 63) throw new ProtoReadError(`varint longer than 10 bytes at offset ${this.pos}`);
    }
    this.pos = pos;
    return result;
  }

  /** Reads a varint as a signed 64-bit integer, returned as a number (exact up to 2^53). */
  int64(): number {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) throw new ProtoReadError(`truncated varint at offset ${pos}`);
      const b = buf[pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
      shift += 7;
      if (shift > 63) throw new ProtoReadError(`varint longer than 10 bytes at offset ${this.pos}`);
    }
    this.pos = pos;
    // hi as a signed 32-bit value carries the sign of the 64-bit integer.
    return (hi | 0) * 0x100000000 + (lo >>> 0);
  }

  /** Reads a little-endian IEEE 754 double (wire type 1). */
  double(): number {
    if (this.pos + 8 > this.end) throw new ProtoReadError(`truncated double at offset ${this.pos}`);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes. */
  delimitedEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw new ProtoReadError(`length ${len} at offset ${this.pos} runs past the end`);
    return end;
  }

  /** Reads a length-delimited UTF-8 string. */
  string(): string {
    const end = this.delimitedEnd();
    const buf = this.buf;
    const start = this.pos;
    this.pos = end;
    const len = end - start;
    if (len <= INTERN_MAX) {
      // Short ASCII strings (nearly all label names and values): from the table, or made flat without a decoder call.
      let h = len;
      for (let i = start; i < end; i++) {
        const b = buf[i]!;
        if (b >= 0x80) return textDecoder.decode(buf.subarray(start, end));
        h = Math.imul(h ^ b, 0x01000193);
      }
      const slot = (h ^ (h >>> 13)) & (INTERN_SLOTS - 1);
      const known = this.interned[slot];
      if (known !== undefined && known.length === len) {
        let same = true;
        for (let i = 0; i < len; i++) {
          if (known.charCodeAt(i) !== buf[start + i]) {
            same = false;
            break;
          }
        }
        if (same) return known;
      }
      const made = String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
      this.interned[slot] = made;
      return made;
    }
    return textDecoder.decode(buf.subarray(start, end));
  }

  /** Skips one field's value of the given wire type (the tag is already read). */
  skipField(wireType: number, field = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.int64();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.pos = this.delimitedEnd();
        return;
      case WIRE_START_GROUP:
        for (;;) {
          const tag = this.uint32();
          const wt = tag & 7;
          if (wt === WIRE_END_GROUP) {
            if (tag >>> 3 !== field) throw new ProtoReadError(`mismatched end group at offset ${this.pos}`);
            return;
          }
          this.skipField(wt, tag >>> 3);
        }
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtoReadError(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtoReadError(`truncated field at offset ${this.pos}`);
    this.pos += n;
  }
}
