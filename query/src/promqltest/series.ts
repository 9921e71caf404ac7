import { type FloatHistogram, type Label, type Labels, parseDuration, STALE_NAN } from '@promstream/storage';
import { addH, scaleH } from '../promql/histogram.js';
import { parseNumber, unquoteString } from '../promql/literals.js';

/**
 * The value notations of the promqltest format: label sets
 * (`metric{a="b"}`), series descriptions (`1 2+3x4 _ stale`) and native
 * histogram literals (`{{schema:0 sum:5 count:4 buckets:[1 2 1]}}`).
 */

/**
 * One point of a description: undefined means no sample at that step.
 * `hintSet` marks a histogram whose literal names its `counter_reset_hint`:
 * only then does an expected histogram's hint have to match.
 */
export type SeriesPoint = { f: number } | { h: FloatHistogram; hintSet?: boolean } | undefined;

/** Parses `name{l="v", ...}` (either part optional); returns labels and the rest of the text. */
export function parseLabelSet(text: string): { labels: Labels; rest: string } {
  let i = 0;
  const s = text.trimStart();
  const labels: Label[] = [];
  const nameM = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  if (nameM) {
    labels.push({ name: '__name__', value: nameM[0] });
    i = nameM[0].length;
  }
  if (s[i] === '{') {
    i++;
    for (;;) {
      while (s[i] === ' ' || s[i] === '\t' || s[i] === ',') i++;
      if (s[i] === '}') {
        i++;
        break;
      }
      if (i >= s.length) throw new Error(`unterminated label set: ${text}`);
      let name: string;
      if (s[i] === '"') {
        const end = stringEnd(s, i);
        name = unquoteString(s.slice(i, end));
        i = end;
      } else {
        const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
        if (!m) throw new Error(`bad label name at ${s.slice(i, i + 10)}`);
        name = m[0];
        i += name.length;
      }
      while (s[i] === ' ') i++;
      if (s[i] !== '=') {
        // A bare quoted string is the metric name.
        labels.push({ name: '__name__', value: name });
        continue;
      }
      i++;
      while (s[i] === ' ') i++;
      const end = stringEnd(s, i);
      const value = unquoteString(s.slice(i, end));
      // Empty values mean an absent label, as in Prometheus.
      if (value !== '') labels.push({ name, value });
      i = end;
    }
  }
  const sorted = labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { labels: sorted, rest: s.slice(i) };
}

function stringEnd(s: string, i: number): number {
  const q = s[i];
  if (q !== '"' && q !== "'" && q !== '`')
    throw new Error(`expected a quoted string at ${s.slice(i, i + 10)}`);
  let j = i + 1;
  while (j < s.length && s[j] !== q) {
    if (s[j] === '\\' && q !== '`') j++;
    j++;
  }
  return j + 1;
}

/** Splits a description into items, keeping `{{...}}` literals whole. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    let j = i;
    while (j < text.length && !/\s/.test(text[j] as string)) {
      if (text.startsWith('{{', j)) {
        const end = text.indexOf('}}', j);
        if (end < 0) throw new Error(`unterminated histogram literal: ${text.slice(j)}`);
        j = end + 2;
      } else j++;
    }
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

function parseList(s: string): number[] {
  const body = s.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  return body === '' ? [] : body.split(/\s+/).map((x) => parseNumber(x));
}

/** Parses one `{{...}}` histogram literal. */
export function parseHistogram(lit: string): FloatHistogram {
  const body = lit.slice(2, -2);
  const h: FloatHistogram = {
    counterResetHint: 0,
    schema: 0,
    zeroThreshold: 0.001,
    zeroCount: 0,
    count: 0,
    sum: 0,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: [],
    negativeBuckets: [],
    customValues: [],
  };
  let offset = 0;
  let nOffset = 0;
  const re = /([a-z_]+):(\[[^\]]*\]|\S+)/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const key = m[1] as string;
    const val = m[2] as string;
    switch (key) {
      case 'schema':
        h.schema = parseNumber(val);
        break;
      case 'sum':
        h.sum = parseNumber(val);
        break;
      case 'count':
        h.count = parseNumber(val);
        break;
      case 'z_bucket':
        h.zeroCount = parseNumber(val);
        break;
      case 'z_bucket_w':
        h.zeroThreshold = parseNumber(val);
        break;
      case 'buckets':
        h.positiveBuckets = parseList(val);
        break;
      case 'n_buckets':
        h.negativeBuckets = parseList(val);
        break;
      case 'offset':
        offset = parseNumber(val);
        break;
      case 'n_offset':
        nOffset = parseNumber(val);
        break;
      case 'custom_values':
        h.customValues = parseList(val);
        break;
      case 'counter_reset_hint':
        h.counterResetHint = val === 'reset' ? 1 : val === 'not_reset' ? 2 : val === 'gauge' ? 3 : 0;
        break;
      default:
        throw new Error(`unknown histogram field ${key}`);
    }
  }
  if (h.positiveBuckets.length > 0) h.positiveSpans = [{ offset, length: h.positiveBuckets.length }];
  if (h.negativeBuckets.length > 0) h.negativeSpans = [{ offset: nOffset, length: h.negativeBuckets.length }];
  if (h.customValues.length > 0) h.zeroThreshold = 0;
  return h;
}

function addHistLiteral(a: FloatHistogram, b: FloatHistogram, k: number): FloatHistogram {
  if (k === 0) return a;
  const r = addH(a, scaleH(b, k));
  r.counterResetHint = a.counterResetHint;
  return r;
}

const NUM = '[+-]?(?:[iI][nN][fF]|[nN][aA][nN]|(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)';

/** Expands a series description into points, one per step. */
export function parseSeriesValues(text: string): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const tok of tokenize(text)) {
    if (tok === '_') {
      out.push(undefined);
      continue;
    }
    let m = /^_x(\d+)$/.exec(tok);
    if (m) {
      for (let k = 0; k < Number(m[1]); k++) out.push(undefined);
      continue;
    }
    if (tok === 'stale') {
      out.push({ f: STALE_NAN });
      continue;
    }
    if (tok.startsWith('{{')) {
      const end = tok.indexOf('}}') + 2;
      const base = parseHistogram(tok.slice(0, end));
      const hintSet = tok.slice(0, end).includes('counter_reset_hint:');
      const rest = tok.slice(end);
      if (rest === '') {
        out.push({ h: base, hintSet });
        continue;
      }
      const rm = /^x(\d+)$/.exec(rest);
      if (rm) {
        for (let k = 0; k <= Number(rm[1]); k++) out.push({ h: base, hintSet });
        continue;
      }
      const im = /^([+-])(\{\{.*\}\})x(\d+)$/.exec(rest);
      if (!im) throw new Error(`bad histogram series item ${tok}`);
      const inc = parseHistogram(im[2] as string);
      const sign = im[1] === '-' ? -1 : 1;
      for (let k = 0; k <= Number(im[3]); k++) out.push({ h: addHistLiteral(base, inc, sign * k), hintSet });
      continue;
    }
    m = new RegExp(`^(${NUM})(?:([+-])(${NUM}))?x(\\d+)$`).exec(tok);
    if (m) {
      const a = parseNumber(m[1] as string);
      const b = m[3] !== undefined ? parseNumber(m[3]) * (m[2] === '-' ? -1 : 1) : 0;
      const n = Number(m[4]);
      for (let k = 0; k <= n; k++) out.push({ f: a + k * b });
      continue;
    }
    out.push({ f: parseNumber(tok) });
  }
  return out;
}

/** Parses a time such as `10m`, `8000s` or `0` to milliseconds. */
export function parseTime(text: string): number {
  const d = parseDuration(text);
  if (d !== undefined) return d;
  const n = Number(text);
  if (Number.isFinite(n)) return n * 1000;
  throw new Error(`bad time ${text}`);
}
