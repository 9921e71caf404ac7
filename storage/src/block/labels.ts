import type { Labels } from '../model.js';
import { compareUtf8 } from './encoding.js';

/** Orders label sets as Prometheus' labels.Compare: pair by pair, name then value; a prefix sorts first. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return compareUtf8(x.name, y.name);
    if (x.value !== y.value) return compareUtf8(x.value, y.value);
  }
  return a.length - b.length;
}

/**
 * A string that identifies a label set within one process, for maps keyed by
 * series. \xff never occurs in valid UTF-8 text, so no two sets share a key.
 */
export function labelsKey(labels: Labels): string {
  let key = '';
  for (const l of labels) key += `${l.name}\xff${l.value}\xfe`;
  return key;
}

/** The label set sorted by name (a copy); throws on a repeated name. */
export function sortLabels(labels: Labels): Labels {
  const out = [...labels].sort((x, y) => compareUtf8(x.name, y.name));
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]!.name === out[i]!.name) throw new Error(`label ${out[i]!.name} appears twice`);
  }
  return out;
}

/** Prometheus' text form: {__name__="up", job="x"}. */
export function formatLabels(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}
