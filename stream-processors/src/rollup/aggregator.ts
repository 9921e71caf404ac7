import type { Label, Labels } from '@promstream/storage';
import type { DecodedBatch } from '../block-builder/seams.js';
import { groupLabels, type RollupRule, ruleMatches } from './config.js';
import { addSample, decodeGroup, denum, encodeGroup, type GroupState, newGroup, num } from './group-state.js';
import { type PartialGroup, type PartialValue, partialPartition } from './partials.js';

/**
 * Stage 1 of a rollup: the partial aggregates of one partition of the
 * samples topic. It is a pure state machine over the partition's records in
 * offset order: the same records from the same snapshot give the same
 * partial records, which is what makes a restart exact (README, "Exactly
 * once").
 *
 * Log time: the watermark is the largest sample timestamp read so far. A
 * window closes once the watermark minus the allowed lateness passes its
 * end; the boundary (`through`) moves in steps of the smallest interval and
 * each step is announced to every partition of the partials topic, with the
 * groups of the windows it closed that hash there. A sample whose window has
 * closed is counted as late and not aggregated.
 */

/** Options of a partition aggregator. */
export interface AggregatorOptions {
  rules: readonly RollupRule[];
  /** The samples partition this aggregator reads. */
  source: number;
  /** How long after its end a window still takes samples, in log time (ms). */
  lateMs: number;
  /** Partitions of the partials topic. */
  partialsPartitions: number;
}

/** A partial record for one partition of the partials topic. */
export interface PartialRecord {
  partition: number;
  value: PartialValue;
}

interface RuleHit {
  rule: RollupRule;
  groupKey: string;
  labels: Labels;
  tenant: string;
  /** The window whose group is cached below. */
  window: number;
  entry: WindowGroup | undefined;
}

interface Slot {
  key: string;
  labels: Labels;
  tenant: string;
  hits: RuleHit[];
  prevT: number;
  prevV: number;
  lastT: number;
}

/**
 * A trie over label pairs: finding a series' slot costs one map lookup per
 * label value and a name comparison, and allocates nothing, where a joined
 * key string would be built and hashed for every series of every record.
 * Children are keyed by value; pairs with the same value and another name
 * hang off `alt`.
 */
interface TrieNode {
  name: string;
  next: Map<string, TrieNode> | undefined;
  alt: TrieNode | undefined;
  slot: Slot | undefined;
}

interface WindowGroup {
  tenant: string;
  labels: Labels;
  state: GroupState;
  /** Series keys seen in this window, for `count_series`; null when the rule has none. */
  members: Set<string> | null;
}

/** Counters of what an aggregator did, for metrics. */
export interface AggregatorCounts {
  samples: number;
  aggregated: number;
  late: number;
}

const NEG = Number.NEGATIVE_INFINITY;

/** The stage-1 state machine of one samples partition. */
export class PartitionAggregator {
  private watermark = NEG;
  private through = NEG;
  private readonly step: number;
  private readonly gcAfter: number;
  private readonly slots = new Map<string, Slot>();
  private trie = new Map<string, TrieNode>();
  /** Per rule: window start → group key → group. */
  private readonly windows: Map<number, Map<string, WindowGroup>>[];
  readonly counts: AggregatorCounts = { samples: 0, aggregated: 0, late: 0 };

  constructor(private readonly options: AggregatorOptions) {
    const { rules } = options;
    this.step = Math.min(...rules.map((r) => r.intervalMs));
    this.gcAfter = Math.max(...rules.map((r) => r.stalenessMs)) + options.lateMs;
    this.windows = rules.map(() => new Map());
  }

  /** Aggregates one record's samples; returns the partial records of the windows it closed. */
  add(batch: DecodedBatch): PartialRecord[] {
    let maxT = this.watermark;
    for (const s of batch.series) {
      const slot = this.slot(batch.tenant, s.labels);
      const { t, v } = s;
      for (let i = 0; i < t.length; i++) {
        const ts = t[i]!;
        if (ts > maxT) maxT = ts;
        this.sample(slot, ts, v[i]!);
      }
    }
    if (maxT <= this.watermark) return [];
    this.watermark = maxT;
    const through = Math.floor((maxT - this.options.lateMs) / this.step) * this.step;
    return through > this.through ? this.close(through) : [];
  }

  private sample(slot: Slot, t: number, v: number): void {
    this.counts.samples++;
    // Stale markers end a series in Prometheus; they are not values to aggregate.
    if (Number.isNaN(v)) return;
    const fresh = t > slot.prevT;
    for (const hit of slot.hits) {
      const iv = hit.rule.intervalMs;
      const start = t - (((t % iv) + iv) % iv);
      if (start + iv <= this.through) {
        this.counts.late++;
        continue;
      }
      if (hit.window !== start || hit.entry === undefined) {
        hit.window = start;
        hit.entry = this.group(hit, start);
      }
      const g = hit.entry;
      addSample(g.state, t, v);
      if (g.members !== null && !g.members.has(slot.key)) {
        g.members.add(slot.key);
        g.state.series++;
      }
      if (fresh && slot.prevT !== NEG && t - slot.prevT <= hit.rule.stalenessMs)
        g.state.increase += v >= slot.prevV ? v - slot.prevV : v;
      this.counts.aggregated++;
    }
    if (fresh) {
      slot.prevT = t;
      slot.prevV = v;
    }
    if (t > slot.lastT) slot.lastT = t;
  }

  private slot(tenant: string, labels: Labels): Slot {
    const node = this.node(tenant, labels);
    if (node.slot === undefined) node.slot = this.newSlot(tenant, labels, NEG, 0, NEG);
    return node.slot;
  }

  /** The trie node of a series, made when missing. */
  private node(tenant: string, labels: Labels): TrieNode {
    let node = this.trie.get(tenant);
    if (node === undefined) this.trie.set(tenant, (node = trieNode('')));
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      if (node.next === undefined) node.next = new Map();
      let child = node.next.get(l.value);
      if (child === undefined) node.next.set(l.value, (child = trieNode(l.name)));
      while (child.name !== l.name) {
        if (child.alt === undefined) child.alt = trieNode(l.name);
        child = child.alt;
      }
      node = child;
    }
    return node;
  }

  private newSlot(tenant: string, labels: Labels, prevT: number, prevV: number, lastT: number): Slot {
    const key = groupKey(tenant, labels);
    const slot: Slot = { key, labels, tenant, hits: this.hits(tenant, labels), prevT, prevV, lastT };
    this.slots.set(key, slot);
    return slot;
  }

  private hits(tenant: string, labels: Labels): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const rule of this.options.rules) {
      if (!ruleMatches(rule, labels)) continue;
      const out = groupLabels(rule, labels);
      hits.push({
        rule,
        groupKey: groupKey(tenant, out),
        labels: out,
        tenant,
        window: NEG,
        entry: undefined,
      });
    }
    return hits;
  }

  private group(hit: RuleHit, start: number): WindowGroup {
    const byStart = this.windows[hit.rule.index]!;
    let groups = byStart.get(start);
    if (groups === undefined) byStart.set(start, (groups = new Map()));
    let g = groups.get(hit.groupKey);
    if (g === undefined) {
      const counts = hit.rule.outputs.some((o) => o.kind === 'count_series');
      g = {
        tenant: hit.tenant,
        labels: hit.labels,
        state: newGroup(hit.rule),
        members: counts ? new Set() : null,
      };
      groups.set(hit.groupKey, g);
    }
    return g;
  }

  /** Closes the windows that end by `through`; one record per partials partition. */
  private close(through: number): PartialRecord[] {
    const q = this.options.partialsPartitions;
    const values: PartialValue[] = Array.from({ length: q }, () => ({
      src: this.options.source,
      through,
      windows: [],
    }));
    for (const rule of this.options.rules) {
      const byStart = this.windows[rule.index]!;
      const starts = [...byStart.keys()].filter((s) => s + rule.intervalMs <= through).sort((a, b) => a - b);
      for (const start of starts) {
        const groups = [...byStart.get(start)!].sort((a, b) => (a[0] < b[0] ? -1 : 1));
        byStart.delete(start);
        const perPartition = new Map<number, PartialGroup[]>();
        for (const [key, g] of groups) {
          const p = partialPartition(key, q);
          let list = perPartition.get(p);
          if (list === undefined) perPartition.set(p, (list = []));
          list.push([key, g.tenant, flatLabels(g.labels), encodeGroup(g.state)]);
        }
        for (const [p, list] of perPartition) values[p]!.windows.push([rule.index, start, list]);
      }
    }
    this.through = through;
    this.collect();
    return values.map((value, partition) => ({ partition, value }));
  }

  /** Forgets series not seen for longer than any staleness interval (their counter state is stale). */
  private collect(): void {
    const horizon = this.watermark - this.gcAfter;
    let removed = false;
    for (const [key, slot] of this.slots)
      if (slot.lastT < horizon) {
        this.slots.delete(key);
        removed = true;
      }
    if (!removed) return;
    // Rebuilt rather than pruned: simple, and it runs at most once per step.
    this.trie = new Map();
    for (const slot of this.slots.values()) this.node(slot.tenant, slot.labels).slot = slot;
  }

  /** The whole state, JSON-safe. */
  snapshot(): AggregatorSnapshot {
    return {
      watermark: num(this.watermark),
      through: num(this.through),
      slots: [...this.slots.values()].map((s) => [s.key, num(s.prevT), num(s.prevV), num(s.lastT)]),
      windows: this.windows.map((byStart) =>
        [...byStart].map(([start, groups]) => [
          start,
          [...groups].map(([key, g]) => [
            key,
            g.tenant,
            flatLabels(g.labels),
            encodeGroup(g.state),
            g.members === null ? null : [...g.members],
          ]),
        ]),
      ),
    };
  }

  /** Restores a snapshot taken with the same rules. */
  restore(s: AggregatorSnapshot): void {
    this.watermark = denum(s.watermark);
    this.through = denum(s.through);
    for (const [key, prevT, prevV, lastT] of s.slots) {
      const { tenant, labels } = parseSlotKey(key);
      const slot = this.slot(tenant, labels);
      slot.prevT = denum(prevT);
      slot.prevV = denum(prevV);
      slot.lastT = denum(lastT);
    }
    s.windows.forEach((byStart, rule) => {
      for (const [start, groups] of byStart) {
        const m = new Map<string, WindowGroup>();
        for (const [key, tenant, labels, state, members] of groups)
          m.set(key, {
            tenant,
            labels: unflatLabels(labels),
            state: decodeGroup(state),
            members: members === null ? null : new Set(members),
          });
        this.windows[rule]?.set(start, m);
      }
    });
  }
}

/** The JSON form of an aggregator's state. */
export interface AggregatorSnapshot {
  watermark: number | string;
  through: number | string;
  slots: [string, number | string, number | string, number | string][];
  windows: [number, [string, string, string[], unknown[], string[] | null][]][][];
}

function trieNode(name: string): TrieNode {
  return { name, next: undefined, alt: undefined, slot: undefined };
}

/** The key of an output group: its tenant and labels. */
export function groupKey(tenant: string, labels: Labels): string {
  let key = tenant;
  for (const l of labels) key += `\u0000${l.name}\u0001${l.value}`;
  return key;
}

function parseSlotKey(key: string): { tenant: string; labels: Label[] } {
  const [tenant, ...pairs] = key.split('\u0000');
  return {
    tenant: tenant ?? '',
    labels: pairs.map((p) => {
      const i = p.indexOf('\u0001');
      return { name: p.slice(0, i), value: p.slice(i + 1) };
    }),
  };
}

/** Labels as [name, value, name, value, ...]. */
export function flatLabels(labels: Labels): string[] {
  const out: string[] = [];
  for (const l of labels) out.push(l.name, l.value);
  return out;
}

/** The inverse of flatLabels. */
export function unflatLabels(flat: readonly string[]): Label[] {
  const out: Label[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ name: flat[i]!, value: flat[i + 1]! });
  return out;
}
