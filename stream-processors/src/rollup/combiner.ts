import type { Labels } from '@promstream/storage';
import { unflatLabels } from './aggregator.js';
import type { RollupRule } from './config.js';
import {
  decodeGroup,
  denum,
  encodeGroup,
  type GroupState,
  groupOutputs,
  mergeGroups,
  num,
  type OutputSample,
} from './group-state.js';
import type { PartialValue } from './partials.js';

/**
 * Stage 2 of a rollup: one partition of the partials topic. It holds the
 * partial aggregates of each window until every samples partition has
 * closed it (its `through` passed the window's end), then combines them in
 * source-partition order and emits the window's output samples, stamped
 * with the window's end. `total` keeps a running sum per output group
 * across windows. A partial record whose `through` is not past what its
 * source already announced is a repeat from a restarted stage 1 (same
 * content by construction) and is ignored.
 */

/** Output samples of one tenant, all at one timestamp. */
export interface OutputBatch {
  tenant: string;
  t: number;
  samples: OutputSample[];
}

interface Pending {
  rule: RollupRule;
  start: number;
  /** Group key → its labels and one partial per source partition. */
  groups: Map<string, { tenant: string; labels: Labels; parts: (GroupState | undefined)[] }>;
}

interface Total {
  value: number;
  lastT: number;
}

const NEG = Number.NEGATIVE_INFINITY;

/** The stage-2 state machine of one partials partition. */
export class Combiner {
  private readonly through: number[];
  private readonly pending = new Map<string, Pending>();
  private readonly totals = new Map<string, Total>();
  /** Repeated partial records ignored, for metrics. */
  repeats = 0;

  constructor(
    private readonly rules: readonly RollupRule[],
    private readonly sources: number,
  ) {
    this.through = Array.from({ length: sources }, () => NEG);
  }

  /** Takes one partial record; returns the output of every window it completed. */
  add(p: PartialValue): OutputBatch[] {
    if (p.src < 0 || p.src >= this.sources || p.through <= this.through[p.src]!) {
      this.repeats++;
      return [];
    }
    for (const [ruleIndex, start, groups] of p.windows) {
      const rule = this.rules[ruleIndex];
      if (rule === undefined) continue;
      const id = `${ruleIndex}:${start}`;
      let w = this.pending.get(id);
      if (w === undefined) this.pending.set(id, (w = { rule, start, groups: new Map() }));
      for (const [key, tenant, labels, state] of groups) {
        let g = w.groups.get(key);
        if (g === undefined)
          w.groups.set(key, (g = { tenant, labels: unflatLabels(labels), parts: Array(this.sources) }));
        g.parts[p.src] = decodeGroup(state);
      }
    }
    this.through[p.src] = p.through;
    return this.complete();
  }

  private complete(): OutputBatch[] {
    const done = Math.min(...this.through);
    const ready = [...this.pending.values()]
      .filter((w) => w.start + w.rule.intervalMs <= done)
      .sort((a, b) => a.start - b.start || a.rule.index - b.rule.index);
    const out = new Map<string, OutputBatch>();
    for (const w of ready) {
      this.pending.delete(`${w.rule.index}:${w.start}`);
      const t = w.start + w.rule.intervalMs;
      for (const [key, g] of [...w.groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        let combined: GroupState | undefined;
        for (const part of g.parts) {
          if (part === undefined) continue;
          if (combined === undefined) combined = part;
          else mergeGroups(combined, part);
        }
        if (combined === undefined || combined.count === 0) continue;
        const total = this.total(w.rule, key, t, combined.increase);
        const id = `${g.tenant}\u0000${t}`;
        let batch = out.get(id);
        if (batch === undefined) out.set(id, (batch = { tenant: g.tenant, t, samples: [] }));
        batch.samples.push(...groupOutputs(w.rule, g.labels, combined, total));
      }
    }
    this.forgetTotals(done);
    return [...out.values()];
  }

  private total(rule: RollupRule, key: string, t: number, increase: number): number {
    if (!rule.outputs.some((o) => o.kind === 'total')) return 0;
    const id = `${rule.index}\u0000${key}`;
    const prev = this.totals.get(id);
    const value = (prev?.value ?? 0) + increase;
    this.totals.set(id, { value, lastT: t });
    return value;
  }

  /** A group silent for longer than its rule's staleness interval starts its total again from 0. */
  private forgetTotals(done: number): void {
    for (const [id, tot] of this.totals) {
      const rule = this.rules[Number(id.slice(0, id.indexOf('\u0000')))];
      if (rule === undefined || tot.lastT + rule.stalenessMs < done) this.totals.delete(id);
    }
  }

  /** The whole state, JSON-safe. */
  snapshot(): CombinerSnapshot {
    return {
      through: this.through.map(num),
      pending: [...this.pending.values()].map((w) => [
        w.rule.index,
        w.start,
        [...w.groups].map(([key, g]) => [
          key,
          g.tenant,
          g.labels.flatMap((l) => [l.name, l.value]),
          g.parts.map((p) => (p === undefined ? null : encodeGroup(p))),
        ]),
      ]),
      totals: [...this.totals].map(([id, t]) => [id, num(t.value), t.lastT]),
    };
  }

  /** Restores a snapshot taken with the same rules and source count. */
  restore(s: CombinerSnapshot): void {
    s.through.forEach((t, i) => {
      if (i < this.sources) this.through[i] = denum(t);
    });
    for (const [ruleIndex, start, groups] of s.pending) {
      const rule = this.rules[ruleIndex];
      if (rule === undefined) continue;
      const w: Pending = { rule, start, groups: new Map() };
      for (const [key, tenant, labels, parts] of groups)
        w.groups.set(key, {
          tenant,
          labels: unflatLabels(labels),
          parts: parts.map((p) => (p === null ? undefined : decodeGroup(p))),
        });
      this.pending.set(`${ruleIndex}:${start}`, w);
    }
    for (const [id, value, lastT] of s.totals) this.totals.set(id, { value: denum(value), lastT });
  }
}

/** The JSON form of a combiner's state. */
export interface CombinerSnapshot {
  through: (number | string)[];
  pending: [number, number, [string, string, string[], (unknown[] | null)[]][]][];
  totals: [string, number | string, number][];
}
