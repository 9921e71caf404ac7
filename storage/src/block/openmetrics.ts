/**
 * A reader of the OpenMetrics text lines that backfilling needs: samples
 * with labels and timestamps (seconds, as the format says), `#` lines and
 * `# EOF`. Errors carry the line number.
 */
import { StorageError, StorageErrorCode } from '../errors.js';
import type { Label } from '../model.js';

/** One sample line. */
export interface OpenMetricsSample {
  labels: Label[];
  /** Milliseconds, truncated as Prometheus does (int64(seconds * 1000)). */
  t: number;
  v: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function fail(line: number, why: string): never {
  throw new StorageError(StorageErrorCode.InvalidArgument, `parse OpenMetrics line ${line}: ${why}`);
}

/** Go's math.NaN() bits (0x7ff8000000000001), so a backfilled NaN encodes as Prometheus encodes it. */
const GO_NAN = new Float64Array(new BigUint64Array([0x7ff8000000000001n]).buffer)[0]!;

function parseValue(s: string, line: number, what: string): number {
  switch (s) {
    case 'NaN':
      return GO_NAN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) && !/^[-+]?0[xX][0-9a-fA-F]+$/.test(s)) {
    fail(line, `${what} ${JSON.stringify(s)} is not a number`);
  }
  return Number(s);
}

/** Parses the samples of an OpenMetrics text; every sample needs a timestamp. */
export function* parseOpenMetrics(text: string): Generator<OpenMetricsSample> {
  const lines = text.split('\n');
  let sawEof = false;
  for (let i = 0; i < lines.length; i++) {
    const ln = i + 1;
    const s = lines[i]!;
    if (sawEof) {
      if (s.trim() !== '') fail(ln, 'content after # EOF');
      continue;
    }
    if (s === '# EOF') {
      sawEof = true;
      continue;
    }
    if (s === '' || s.startsWith('#')) continue;
    const m = NAME.exec(s);
    if (m === null) fail(ln, 'expected a metric name');
    const labels: Label[] = [{ name: '__name__', value: m[0] }];
    let p = m[0].length;
    if (s[p] === '{') {
      p++;
      while (s[p] !== '}') {
        const ln2 = LABEL_NAME.exec(s.slice(p));
        if (ln2 === null) fail(ln, `expected a label name at column ${p + 1}`);
        p += ln2[0].length;
        if (s[p] !== '=' || s[p + 1] !== '"') fail(ln, `expected =" after label ${ln2[0]}`);
        p += 2;
        let value = '';
        for (;;) {
          const c = s[p];
          if (c === undefined) fail(ln, 'label value does not end');
          if (c === '"') break;
          if (c === '\\') {
            const e = s[p + 1];
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else fail(ln, `escape \\${e ?? ''} is not valid`);
            p += 2;
            continue;
          }
          value += c;
          p++;
        }
        p++;
        if (value !== '') labels.push({ name: ln2[0], value });
        if (s[p] === ',') p++;
        else if (s[p] !== '}') fail(ln, `expected , or } at column ${p + 1}`);
      }
      p++;
    }
    const rest = s.slice(p).trim().split(/\s+/);
    if (rest.length < 2 || rest[0] === '') fail(ln, 'expected a value and a timestamp');
    if (rest.length > 2 && rest[2] !== '#') fail(ln, 'unexpected text after the timestamp');
    const v = parseValue(rest[0]!, ln, 'value');
    const ts = parseValue(rest[1]!, ln, 'timestamp');
    if (!Number.isFinite(ts)) fail(ln, 'timestamp is not finite');
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let k = 1; k < labels.length; k++) {
      if (labels[k - 1]!.name === labels[k]!.name) fail(ln, `label ${labels[k]!.name} appears twice`);
    }
    yield { labels, t: Math.trunc(ts * 1000), v };
  }
  if (!sawEof) fail(lines.length, 'no # EOF line at the end');
}
