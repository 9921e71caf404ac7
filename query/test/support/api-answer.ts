/**
 * Two Prometheus HTTP API answers to the same query request, compared as
 * Prometheus' clients see them: HTTP status, `status`, and then either the
 * error type and message, or the result type, the series, every timestamp
 * exactly, every value, and the warnings and infos. Used by the differential
 * test and the query benchmark against Prometheus.
 */

/** One series of a vector or matrix answer, its points in the order received. */
export interface AnswerSeries {
  /** The label set as a canonical string (names sorted). */
  key: string;
  /** `[time in seconds as sent, value text]`, floats and histograms in one list. */
  points: [number, string][];
}

/** A parsed API answer. */
export type Answer =
  | { http: number; status: 'error'; errorType: string; error: string; warnings: string[]; infos: string[] }
  | {
      http: number;
      status: 'success';
      resultType: string;
      /** Vector and matrix series; a scalar or string answer is one series with an empty key. */
      series: AnswerSeries[];
      warnings: string[];
      infos: string[];
    };

interface SeriesJson {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
  histogram?: [number, unknown];
  histograms?: [number, unknown][];
}

function metricKey(metric: Record<string, string>): string {
  return Object.entries(metric)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
    .join(',');
}

/** Parses an API answer's body; a body that is not a Prometheus answer throws. */
export function parseAnswer(http: number, body: string): Answer {
  const j = JSON.parse(body) as {
    status: string;
    errorType?: string;
    error?: string;
    data?: { resultType: string; result: unknown };
    warnings?: string[];
    infos?: string[];
  };
  const warnings = j.warnings ?? [];
  const infos = j.infos ?? [];
  if (j.status === 'error')
    return { http, status: 'error', errorType: j.errorType ?? '', error: j.error ?? '', warnings, infos };
  if (j.status !== 'success' || !j.data) throw new Error(`not a query answer: ${body.slice(0, 200)}`);
  const { resultType, result } = j.data;
  let series: AnswerSeries[];
  if (resultType === 'scalar' || resultType === 'string')
    series = [{ key: '', points: [result as [number, string]] }];
  else
    series = (result as SeriesJson[]).map((s) => ({
      key: metricKey(s.metric),
      points: [
        ...(s.value ? [s.value] : []),
        ...(s.values ?? []),
        ...(s.histogram ? [[s.histogram[0], JSON.stringify(s.histogram[1])] as [number, string]] : []),
        ...(s.histograms ?? []).map(([t, h]) => [t, JSON.stringify(h)] as [number, string]),
      ].sort((a, b) => a[0] - b[0]),
    }));
  return { http, status: 'success', resultType, series, warnings, infos };
}

function sameValue(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  const num = (s: string) => Number(s === '+Inf' ? 'Infinity' : s === '-Inf' ? '-Infinity' : s);
  const x = num(a);
  const y = num(b);
  if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y));
}

/** How strictly values and order are compared. */
export interface CompareOptions {
  /**
   * Relative difference allowed between two values (default 0: the same
   * text). Times are always compared exactly.
   */
  tolerance?: number;
  /** Compare the order of vector samples too (sort functions); matrices are always ordered. */
  ordered?: boolean;
}

/** Every difference between our answer and the reference's, each prefixed by `where`. */
export function compareAnswers(
  where: string,
  ours: Answer,
  theirs: Answer,
  options: CompareOptions = {},
): string[] {
  const tolerance = options.tolerance ?? 0;
  const out: string[] = [];
  const p = (s: string) => out.push(`${where}: ${s}`);
  if (ours.http !== theirs.http) p(`HTTP ${ours.http} vs ${theirs.http}`);
  if (ours.status !== theirs.status || ours.status === 'error' || theirs.status === 'error') {
    if (ours.status !== theirs.status)
      p(`${ours.status} vs ${theirs.status} (${describe(ours)} vs ${describe(theirs)})`);
    else if (ours.status === 'error' && theirs.status === 'error') {
      if (ours.errorType !== theirs.errorType) p(`errorType ${ours.errorType} vs ${theirs.errorType}`);
      if (ours.error !== theirs.error)
        p(`error ${JSON.stringify(ours.error)} vs ${JSON.stringify(theirs.error)}`);
    }
    return out;
  }
  for (const kind of ['warnings', 'infos'] as const) {
    const a = [...ours[kind]].sort();
    const b = [...theirs[kind]].sort();
    if (JSON.stringify(a) !== JSON.stringify(b)) p(`${kind} ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  if (ours.resultType !== theirs.resultType) {
    p(`result type ${ours.resultType} vs ${theirs.resultType}`);
    return out;
  }
  const ordered = options.ordered || ours.resultType === 'matrix';
  const theirsByKey = new Map(theirs.series.map((s) => [s.key, s]));
  const oursKeys = new Set(ours.series.map((s) => s.key));
  for (let i = 0; i < ours.series.length; i++) {
    const a = ours.series[i] as AnswerSeries;
    const b = theirsByKey.get(a.key);
    if (!b) {
      p(`extra series {${a.key}}`);
      continue;
    }
    if (ordered && theirs.series[i]?.key !== a.key)
      p(`series {${a.key}} at position ${i}, not ${theirs.series.indexOf(b)}`);
    if (a.points.length !== b.points.length) {
      p(`{${a.key}}: ${a.points.length} points vs ${b.points.length}: ${fmt(a.points)} vs ${fmt(b.points)}`);
      continue;
    }
    for (let k = 0; k < a.points.length; k++) {
      const [ta, va] = a.points[k] as [number, string];
      const [tb, vb] = b.points[k] as [number, string];
      if (ta !== tb) {
        p(`{${a.key}}: point ${k} at ${ta} vs ${tb}`);
        break;
      }
      if (!sameValue(va, vb, tolerance)) {
        p(`{${a.key}}: at ${ta} value ${va} vs ${vb}`);
        break;
      }
    }
  }
  for (const s of theirs.series) if (!oursKeys.has(s.key)) p(`missing series {${s.key}}`);
  return out;
}

function describe(a: Answer): string {
  return a.status === 'error' ? `${a.errorType}: ${a.error}` : `${a.resultType} of ${a.series.length}`;
}

function fmt(points: [number, string][]): string {
  return points
    .slice(0, 4)
    .map(([t, v]) => `${v}@${t}`)
    .join(' ');
}
