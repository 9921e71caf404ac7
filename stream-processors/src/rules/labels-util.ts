import type { Label, Labels } from '@promstream/storage';

/** Label sets as Prometheus' rule code handles them: sorted lists built from and read into maps. */

/** A sorted label list from a map. */
export function labelsFrom(map: Readonly<Record<string, string>>): Labels {
  const out: Label[] = [];
  for (const [name, value] of Object.entries(map)) if (value !== '') out.push({ name, value });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A map from a label list. */
export function labelsMap(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** A stable key of a label list (sorted input). */
export function labelsId(labels: Labels): string {
  let s = '';
  for (const l of labels) s += `${l.name}\xff${l.value}\xff`;
  return s;
}
