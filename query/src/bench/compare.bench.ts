/**
 * Compares two Prometheus API `data` objects of query answers: same result
 * type, same series (in any order unless `ordered`), same timestamps, and
 * values equal within a relative tolerance (engines may sum in a different
 * order). Returns undefined when they agree, else the first difference.
 */

type Point = [number, string];
interface SeriesJson {
  metric: Record<string, string>;
  value?: Point;
  values?: Point[];
}
export interface QueryData {
  resultType: string;
  result: unknown;
}

function key(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameValue(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  const x = Number(a === '+Inf' ? 'Infinity' : a === '-Inf' ? '-Infinity' : a);
  const y = Number(b === '+Inf' ? 'Infinity' : b === '-Inf' ? '-Infinity' : b);
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return x === y;
  return Math.abs(x - y) <= tolerance * Math.max(Math.abs(x), Math.abs(y), 1e-300);
}

function samePoints(a: Point[], b: Point[], tolerance: number, where: string): string | undefined {
  if (a.length !== b.length) return `${where}: ${a.length} points vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const [ta, va] = a[i]!;
    const [tb, vb] = b[i]!;
    if (ta !== tb) return `${where}: point ${i} at ${ta} vs ${tb}`;
    if (!sameValue(va, vb, tolerance)) return `${where}: at ${ta} value ${va} vs ${vb}`;
  }
  return undefined;
}

/** The first difference between two answers, or undefined when they agree. */
export function diffResults(
  ours: QueryData,
  theirs: QueryData,
  tolerance = 1e-9,
  ordered = false,
): string | undefined {
  if (ours.resultType !== theirs.resultType) return `result type ${ours.resultType} vs ${theirs.resultType}`;
  if (ours.resultType === 'scalar' || ours.resultType === 'string') {
    return samePoints([ours.result as Point], [theirs.result as Point], tolerance, 'scalar');
  }
  const a = ours.result as SeriesJson[];
  const b = theirs.result as SeriesJson[];
  if (a.length !== b.length) return `${a.length} series vs ${b.length}`;
  const byKey = new Map(b.map((s) => [key(s.metric), s]));
  for (let i = 0; i < a.length; i++) {
    const s = a[i]!;
    const k = key(s.metric);
    const other = ordered ? b[i]! : byKey.get(k);
    if (other === undefined || key(other.metric) !== k)
      return `series ${k} missing or out of place in the reference`;
    const pa = s.values ?? (s.value ? [s.value] : []);
    const pb = other.values ?? (other.value ? [other.value] : []);
    const d = samePoints(pa, pb, tolerance, k);
    if (d !== undefined) return d;
  }
  return undefined;
}
