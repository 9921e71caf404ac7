import type { Label, Labels } from '@promstream/storage';

export { compareLabels, labelsKey } from '@promstream/storage';

/** Label-set helpers for the evaluator. Label sets are sorted by name. */

export const METRIC_NAME = '__name__';

/** The value of a label, or the empty string. */
export function labelValue(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return '';
}

/** Sorts labels by name and drops empty values (the canonical form). */
export function normalize(ls: Label[]): Labels {
  return ls.filter((l) => l.value !== '').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Returns the labels with one label set (or removed when the value is empty). */
export function withLabel(ls: Labels, name: string, value: string): Labels {
  const out = ls.filter((l) => l.name !== name);
  if (value !== '') out.push({ name, value });
  return normalize(out);
}

/** Returns the labels without the given names. */
export function without(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => !names.has(l.name));
}

/** Returns only the labels with the given names. */
export function only(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => names.has(l.name));
}

/**
 * Formats labels as Prometheus' `Labels.String()` does for messages:
 * `{__name__="a", b="c"}`, names quoted when they are not legacy names.
 */
export function formatLabels(ls: Labels): string {
  const parts = ls.map(
    (l) => `${/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l.name) ? l.name : goQuote(l.name)}=${goQuote(l.value)}`,
  );
  return `{${parts.join(', ')}}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a label name is valid (Prometheus 3: any non-empty UTF-8 text). */
export function isValidLabelName(name: string): boolean {
  return name.length > 0 && !LONE_SURROGATE.test(name);
}

/** Quotes a string as Go's %q does for the texts we produce (bytes that are not UTF-8 as \xNN). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\udc([89a-f][0-9a-f])/gi, (_, b: string) => `\\x${b.toLowerCase()}`);
}
