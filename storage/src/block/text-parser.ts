/**
 * A streaming reader of the text formats that backfilling takes: OpenMetrics
 * (timestamps in seconds, ending in `# EOF`) and Prometheus' text format
 * (timestamps in milliseconds). Input arrives in chunks of bytes of any size;
 * a line may span chunks. Samples come out through a pull iterator:
 *
 * ```ts
 * parser.feed(chunk);
 * while (parser.next()) use(parser.ref, parser.t, parser.v);
 * // ... after the last chunk:
 * parser.end();
 * while (parser.next()) use(parser.ref, parser.t, parser.v);
 * ```
 *
 * Series are interned: `ref` is a small integer, `parser.series.labels(ref)`
 * the sorted labels. A series seen before is found by its raw text, so a
 * repeated series costs one map lookup and no label parsing. The format is
 * specified in storage/docs/text-input.md.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import type { Label } from '../model.js';
import { ByteArena } from './byte-arena.js';
import { formatLabels } from './labels.js';
import { parseFloatToken, parseIntToken } from './text-numbers.js';

/** The two text formats. */
export type TextFormat = 'openmetrics' | 'prometheus';

/** A line that does not parse: its 1-based number and why. */
export interface BadLine {
  readonly line: number;
  readonly reason: string;
}

/** Options of TextSampleParser. */
export interface TextParserOptions {
  /** The format, or 'auto' (default) to detect it from the first lines (see text-input.md). */
  format?: TextFormat | 'auto';
  /** Count and skip lines that do not parse instead of stopping at the first. */
  skipBadLines?: boolean;
  /** Longest line accepted, in bytes (default 1 MiB); a longer line is a bad line. */
  maxLineBytes?: number;
}

/** Bad lines kept with their reason when skipping; the rest are only counted. */
const KEPT_BAD_LINES = 10;

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const EQUALS = 0x3d;

const EMPTY = Buffer.alloc(0);
/** Types only OpenMetrics has: a `# TYPE` line naming one settles the format. */
const OPENMETRICS_TYPES = /^# TYPE \S+ (info|stateset|gaugehistogram|unknown)\s*$/;

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** FNV-1a over bytes: the key of a raw series text. */
function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

function sameBytes(key: Uint8Array, b: Uint8Array, s: number, e: number): boolean {
  if (key.length !== e - s) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== b[s + i]) return false;
  return true;
}

/**
 * The series met so far, by ref. A raw series text (`name{labels}` as
 * written) is found by its hash and a byte comparison, so a repeated series
 * costs no string; texts whose hash another text took go to a map by string.
 */
export class SeriesTable {
  private readonly byHash = new Map<number, number>();
  private readonly rawKeys: Uint8Array[] = [];
  private readonly rawRefs: number[] = [];
  private readonly collided = new Map<string, number>();
  private readonly byCanonical = new Map<string, number>();
  private readonly list: Label[][] = [];
  private readonly keyArena = new ByteArena();
  /** Label names and values, each kept once: series share most of them. */
  private readonly strings = new Map<string, string>();

  /** Number of series. */
  get size(): number {
    return this.list.length;
  }

  /** The sorted labels of a ref. */
  labels(ref: number): Label[] {
    return this.list[ref]!;
  }

  private intern(s: string): string {
    const had = this.strings.get(s);
    if (had !== undefined) return had;
    this.strings.set(s, s);
    return s;
  }

  /** The ref of the raw series text b[s, e) seen before, or undefined. */
  lookup(b: Buffer, s: number, e: number): number | undefined {
    const at = this.byHash.get(hashBytes(b, s, e));
    if (at === undefined) return undefined;
    if (sameBytes(this.rawKeys[at]!, b, s, e)) return this.rawRefs[at];
    return this.collided.size === 0 ? undefined : this.collided.get(latin1(b, s, e));
  }

  /** Adds sorted labels under the raw text b[s, e); equal label sets spelled differently share a ref. */
  add(b: Buffer, s: number, e: number, parsed: Label[]): number {
    const labels = parsed.map((l) => ({ name: this.intern(l.name), value: this.intern(l.value) }));
    const key = formatLabels(labels);
    let ref = this.byCanonical.get(key);
    if (ref === undefined) {
      ref = this.list.length;
      this.list.push(labels);
      this.byCanonical.set(key, ref);
    }
    const h = hashBytes(b, s, e);
    if (this.byHash.has(h)) {
      this.collided.set(latin1(b, s, e), ref);
    } else {
      this.byHash.set(h, this.rawKeys.length);
      this.rawKeys.push(this.keyArena.copy(b.subarray(s, e)));
      this.rawRefs.push(ref);
    }
    return ref;
  }
}

/** Thrown for the first bad line when bad lines are not skipped. */
function badLineError(bad: BadLine): StorageError {
  return new StorageError(StorageErrorCode.InvalidArgument, `line ${bad.line}: ${bad.reason}`);
}

/** The streaming parser; see the file comment for the loop. */
export class TextSampleParser {
  readonly series = new SeriesTable();
  /** The format in use; undefined until detected. */
  format: TextFormat | undefined;
  /** Lines read so far. */
  lines = 0;
  /** Bad lines so far (skipped when skipBadLines is set). */
  badLines = 0;
  /** The first bad lines with their reasons. */
  readonly firstBadLines: BadLine[] = [];

  /** Series ref, time (ms) and value of the sample next() stopped at. */
  ref = 0;
  t = 0;
  v = 0;

  private readonly skip: boolean;
  private readonly maxLine: number;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private carry: Buffer = EMPTY;
  private carryLen = 0;
  private discarding = false;
  private ended = false;
  private finished = false;
  private sawEof = false;

  constructor(options: TextParserOptions = {}) {
    this.format = options.format === 'auto' ? undefined : options.format;
    this.skip = options.skipBadLines ?? false;
    this.maxLine = options.maxLineBytes ?? 1 << 20;
  }

  /** Gives the next chunk; call only once next() returned false. */
  feed(chunk: Uint8Array): void {
    this.buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.pos = 0;
  }

  /** Says the input ended: the last line needs no newline, and OpenMetrics needs its `# EOF`. */
  end(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.ended = true;
  }

  /** Moves to the next sample; false when the chunk is used up. Throws on a bad line unless skipping. */
  next(): boolean {
    for (;;) {
      const buf = this.buf;
      const nl = buf.indexOf(NL, this.pos);
      if (nl < 0) {
        this.keepTail();
        if (!this.ended || this.finished) return false;
        this.finished = true;
        if (this.discarding) {
          this.lines++;
          this.bad(`line is longer than ${this.maxLine} bytes`);
        } else if (this.carryLen > 0 && this.takeLine(this.carry, 0, this.carryLen)) {
          this.carryLen = 0;
          return true;
        }
        this.carryLen = 0;
        this.finish();
        return false;
      }
      const start = this.pos;
      this.pos = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        this.carryLen = 0;
        this.lines++;
        this.bad(`line is longer than ${this.maxLine} bytes`);
        continue;
      }
      if (this.carryLen > 0) {
        this.append(buf, start, nl);
        const line = this.carry;
        const len = this.carryLen;
        this.carryLen = 0;
        if (this.discarding) {
          this.discarding = false;
          this.lines++;
          this.bad(`line is longer than ${this.maxLine} bytes`);
          continue;
        }
        if (this.takeLine(line, 0, len)) return true;
        continue;
      }
      if (this.takeLine(buf, start, nl)) return true;
    }
  }

  /** Reads past every sample of the chunk (checking each line); returns how many there were. */
  skipAll(): number {
    let n = 0;
    while (this.next()) n++;
    return n;
  }

  /** Keeps the unfinished last line of the chunk for the next one. */
  private keepTail(): void {
    if (this.pos < this.buf.length) this.append(this.buf, this.pos, this.buf.length);
    this.buf = EMPTY;
    this.pos = 0;
  }

  private append(src: Buffer, from: number, to: number): void {
    if (this.discarding) return;
    const need = this.carryLen + (to - from);
    if (need > this.maxLine) {
      this.discarding = true;
      this.carryLen = 0;
      return;
    }
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2, 256));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(src.subarray(from, to), this.carryLen);
    this.carryLen = need;
  }

  /** Checks the end of input: OpenMetrics must end in `# EOF`. */
  private finish(): void {
    if (this.format !== 'prometheus' && !this.sawEof && this.lines > 0) {
      this.bad('no # EOF line at the end of OpenMetrics input', this.lines);
    }
  }

  /** Reads one line; true when it is a sample. */
  private takeLine(b: Buffer, s: number, e: number): boolean {
    this.lines++;
    if (e - s > this.maxLine) {
      this.bad(`line is longer than ${this.maxLine} bytes`);
      return false;
    }
    if (e > s && b[e - 1] === CR) e--;
    const why = this.parseLine(b, s, e);
    if (why === true) return true;
    if (why !== undefined) this.bad(why);
    return false;
  }

  private bad(reason: string, line = this.lines): void {
    const bad = { line, reason };
    if (!this.skip) throw badLineError(bad);
    this.badLines++;
    if (this.firstBadLines.length < KEPT_BAD_LINES) this.firstBadLines.push(bad);
  }

  /** true for a sample, undefined for a line without one, or the reason the line is bad. */
  private parseLine(b: Buffer, s: number, e: number): true | string | undefined {
    if (this.sawEof) return s === e || isAllBlank(b, s, e) ? undefined : 'content after # EOF';
    if (s === e) return undefined;
    if (b[s] === HASH) return this.comment(b, s, e);
    if (!isNameStart(b[s]!)) return 'expected a metric name';
    let p = s + 1;
    while (p < e && isNameChar(b[p]!)) p++;
    if (p < e && b[p] === LBRACE) {
      p = skipLabels(b, p + 1, e);
      if (p < 0) return this.labelError(b, s, e);
    }
    const seriesEnd = p;
    let ref = this.series.lookup(b, s, seriesEnd);
    if (ref === undefined) {
      const labels = parseSeries(b, s, seriesEnd);
      if (typeof labels === 'string') return labels;
      ref = this.series.add(b, s, seriesEnd, labels);
    }
    if (p >= e || !isBlank(b[p]!)) return 'expected a space and a value after the series';
    while (p < e && isBlank(b[p]!)) p++;
    const vs = p;
    while (p < e && !isBlank(b[p]!)) p++;
    const ve = p;
    while (p < e && isBlank(b[p]!)) p++;
    const ts = p;
    while (p < e && !isBlank(b[p]!)) p++;
    const te = p;
    while (p < e && isBlank(b[p]!)) p++;
    if (vs === ve) return 'expected a value';
    if (this.format === undefined) this.format = guessFromTimestamp(b, ts, te);
    if (ts === te || (b[ts] === HASH && this.format === 'openmetrics'))
      return 'sample has no timestamp (backfilling needs one)';
    const v = parseFloatToken(b, vs, ve);
    if (v === undefined) return `value ${JSON.stringify(latin1(b, vs, ve))} is not a number`;
    let t: number | undefined;
    if (this.format === 'openmetrics') {
      const secs = parseFloatToken(b, ts, te);
      t = secs === undefined || !Number.isFinite(secs) ? undefined : Math.trunc(secs * 1000);
    } else {
      t = parseIntToken(b, ts, te);
    }
    if (t === undefined || !Number.isSafeInteger(t)) {
      const unit = this.format === 'openmetrics' ? 'seconds' : 'integer milliseconds';
      return `timestamp ${JSON.stringify(latin1(b, ts, te))} is not ${unit}`;
    }
    if (p < e && !(this.format === 'openmetrics' && b[p] === HASH))
      return 'unexpected text after the timestamp';
    this.ref = ref;
    this.t = t;
    this.v = v;
    return true;
  }

  private comment(b: Buffer, s: number, e: number): string | undefined {
    const text = latin1(b, s, Math.min(e, s + 256));
    if (text === '# EOF') {
      if (this.format === 'prometheus') return undefined;
      this.format = 'openmetrics';
      this.sawEof = true;
      return undefined;
    }
    if (this.format === undefined && (text.startsWith('# UNIT ') || OPENMETRICS_TYPES.test(text))) {
      this.format = 'openmetrics';
    }
    return undefined;
  }

  /** The reason a label set does not parse, found by the slow full parse. */
  private labelError(b: Buffer, s: number, e: number): string {
    const r = parseSeries(b, s, e);
    return typeof r === 'string' ? r : 'label set does not end with }';
  }
}

function isAllBlank(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (!isBlank(b[i]!)) return false;
  return true;
}

/** Bytes as a latin1 string: one char per byte, so equal strings mean equal bytes. */
function latin1(b: Buffer, s: number, e: number): string {
  return b.toString('latin1', s, e);
}

/**
 * OpenMetrics timestamps are seconds, Prometheus' are integer milliseconds:
 * a fraction or exponent means seconds, an integer of 1e11 or more (past the
 * year 5138 in seconds, after March 1973 in ms) means milliseconds.
 */
function guessFromTimestamp(b: Uint8Array, s: number, e: number): TextFormat {
  if (s === e) return 'prometheus';
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 0x2e || c === 0x65 || c === 0x45) return 'openmetrics';
  }
  const n = parseIntToken(b, s, e);
  return n !== undefined && Math.abs(n) >= 1e11 ? 'prometheus' : 'openmetrics';
}

/** The index after the closing brace of a label set starting after `{`, or -1. */
function skipLabels(b: Uint8Array, p: number, e: number): number {
  let inQuote = false;
  for (; p < e; p++) {
    const c = b[p]!;
    if (inQuote) {
      if (c === BACKSLASH) p++;
      else if (c === QUOTE) inQuote = false;
    } else if (c === QUOTE) inQuote = true;
    else if (c === RBRACE) return p + 1;
  }
  return -1;
}

/** Parses `name{label="value",...}` into sorted labels (empty values dropped), or a reason. */
function parseSeries(b: Buffer, s: number, e: number): Label[] | string {
  let p = s;
  while (p < e && isNameChar(b[p]!)) p++;
  const labels: Label[] = [{ name: '__name__', value: latin1(b, s, p) }];
  if (p < e && b[p] === LBRACE) {
    p++;
    while (p < e && b[p] !== RBRACE) {
      const ns = p;
      if (!isNameStart(b[p]!) || b[p] === 0x3a) return `expected a label name at column ${p - s + 1}`;
      while (p < e && isNameChar(b[p]!) && b[p] !== 0x3a) p++;
      const name = latin1(b, ns, p);
      if (b[p] !== EQUALS || b[p + 1] !== QUOTE) return `expected =" after label ${name}`;
      p += 2;
      const value = readQuoted(b, p, e);
      if (typeof value === 'string') return value;
      p = value.end;
      if (value.text !== '') labels.push({ name, value: value.text });
      if (p >= e) return 'label set does not end with }';
      if (b[p] === COMMA) p++;
      else if (b[p] !== RBRACE) return `expected , or } at column ${p - s + 1}`;
    }
    if (p >= e) return 'label set does not end with }';
  }
  labels.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  for (let k = 1; k < labels.length; k++) {
    if (labels[k - 1]!.name === labels[k]!.name) return `label ${labels[k]!.name} appears twice`;
  }
  return labels;
}

/** A label value from after its opening quote: the text and the index after the closing quote. */
function readQuoted(b: Buffer, p: number, e: number): { text: string; end: number } | string {
  const start = p;
  let escaped = false;
  for (; p < e; p++) {
    const c = b[p]!;
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      const n = b[p + 1];
      if (n !== 0x6e && n !== BACKSLASH && n !== QUOTE) {
        return `escape \\${n === undefined ? '' : String.fromCharCode(n)} is not valid`;
      }
      escaped = true;
      p++;
    }
  }
  if (p >= e) return 'label value does not end';
  const raw = b.toString('utf8', start, p);
  const text = escaped ? raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : raw;
  return { text, end: p + 1 };
}
