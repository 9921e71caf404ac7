import {
  MemoryQuerier,
  MergeQuerier,
  type QueryEngine,
  type VectorSample,
  xxhash64,
} from '@promstream/query';
import { isStaleNaN, type Labels, newMatcher, STALE_NAN, ValueType } from '@promstream/storage';
import { type AlertContext, AlertingRule, forStateId } from './alerting-rule.js';
import { RulesError } from './errors.js';
import { labelsFrom, labelsId, labelsMap } from './labels-util.js';
import type { GroupSpec, RuleSpec } from './rule-file.js';
import type { RuleSample, RuleSink, RuleSource } from './seams.js';
import type { TemplateSample } from './template.js';

/**
 * A rule group evaluated with Prometheus' semantics (rules/group.go): one
 * evaluation every `interval` at times offset by a hash of the group's name
 * and file (so groups spread over the interval), the query at the
 * evaluation time minus `query_offset`, rules in order, each seeing what
 * the rules before it wrote in the same evaluation, a series a rule stops
 * returning marked stale, and an error in one rule leaving the others
 * running.
 */

/** A recording rule: its spec and labels (the group's merged under its own). */
export class RecordingRule {
  readonly kind = 'record';
  constructor(
    readonly spec: RuleSpec,
    readonly labels: Record<string, string>,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** The recorded samples of one result, stamped `t`. */
  samples(vector: readonly VectorSample[], t: number, limit: number): RuleSample[] {
    const out: RuleSample[] = [];
    const seen = new Set<string>();
    for (const s of vector) {
      // Said in the rule's lastError rather than left out: the sink writes float samples only so far.
      if (s.h !== undefined)
        throw new RulesError('EVALUATION', 'recording native histogram results is not supported yet');
      const map = labelsMap(s.metric);
      map.__name__ = this.spec.name;
      for (const [k, v] of Object.entries(this.labels)) map[k] = v;
      const labels = labelsFrom(map);
      const id = labelsId(labels);
      if (seen.has(id))
        throw new RulesError(
          'EVALUATION',
          'vector contains metrics with the same labelset after applying rule labels',
        );
      seen.add(id);
      out.push({ labels, t, v: s.f });
    }
    if (limit > 0 && out.length > limit)
      throw new RulesError('EVALUATION', `exceeded limit of ${limit} with ${out.length} series`);
    return out;
  }
}

/** A rule of a group. */
export type Rule = RecordingRule | AlertingRule;

/** How one rule did at its last evaluation, as `/api/v1/rules` reports it. */
export interface RuleHealth {
  health: 'ok' | 'err' | 'unknown';
  lastError: string;
  /** Time of the last evaluation, ms (0 before the first). */
  lastEvaluation: number;
  /** Seconds the last evaluation took. */
  evaluationTime: number;
}

/** Options of a group. Times in ms. */
export interface GroupOptions {
  engine: QueryEngine;
  source: RuleSource;
  sink: RuleSink;
  tenant: string;
  /** The interval of groups that name none (Prometheus' evaluation_interval, default 1m). */
  defaultInterval?: number;
  /** The offset of groups that name none (default 0). */
  defaultQueryOffset?: number;
  externalLabels?: Record<string, string>;
  externalURL?: string;
  /** Restore alert state from ALERTS_FOR_STATE after the first evaluation (Prometheus does at start). */
  restore?: boolean;
  /** How far back the restore looks (default 1h, `--rules.alert.for-outage-tolerance`). */
  outageTolerance?: number;
  /** Least time an alert pends after a restore (default 10m, `--rules.alert.for-grace-period`). */
  forGracePeriod?: number;
  /** Called for each rule that fails an evaluation (metrics and logs). */
  onRuleError?: (rule: Rule, err: Error) => void;
  now?: () => number;
}

/** A loaded rule group and its evaluation state. */
export class RuleGroup {
  readonly rules: Rule[];
  readonly health: RuleHealth[];
  readonly interval: number;
  readonly queryOffset: number;
  /** Time of the last evaluation, ms (0 before the first). */
  lastEvaluation = 0;
  /** Seconds the last evaluation took. */
  evaluationTime = 0;
  /** Series each rule wrote at its last evaluation, to mark those it stops writing stale. */
  private readonly previous: Map<string, Labels>[];
  private pendingRestore: boolean;

  constructor(
    readonly spec: GroupSpec,
    private readonly options: GroupOptions,
  ) {
    this.interval = spec.interval ?? options.defaultInterval ?? 60_000;
    this.queryOffset = spec.queryOffset ?? options.defaultQueryOffset ?? 0;
    this.rules = spec.rules.map((r) => {
      const labels = { ...spec.labels, ...r.labels };
      return r.kind === 'record' ? new RecordingRule(r, labels) : new AlertingRule(r, labels);
    });
    this.pendingRestore = options.restore ?? false;
    for (const r of this.rules) if (r instanceof AlertingRule) r.restored = !this.pendingRestore;
    this.health = this.rules.map(() => ({
      health: 'unknown',
      lastError: '',
      lastEvaluation: 0,
      evaluationTime: 0,
    }));
    this.previous = this.rules.map(() => new Map());
  }

  get name(): string {
    return this.spec.name;
  }

  get file(): string {
    return this.spec.file;
  }

  /**
   * The latest evaluation time at or before `now` (ms): the interval grid
   * shifted by the group's offset, `hash(name, file) mod interval`, as
   * Prometheus' `EvalTimestamp` computes it in nanoseconds.
   */
  evalTimestamp(now: number): number {
    // Nanoseconds in Prometheus; its samples carry the time truncated to milliseconds, so the offset is too.
    const offset = Math.floor(
      Number(groupHash(this.spec.name, this.spec.file) % BigInt(this.interval * 1e6)) / 1e6,
    );
    const adj = now - offset;
    return adj - (((adj % this.interval) + this.interval) % this.interval) + offset;
  }

  /** Evaluates every rule at `ts` (ms) in order; a failing rule is recorded and the next runs. */
  async evaluate(ts: number): Promise<void> {
    const now = this.options.now ?? Date.now;
    const started = now();
    const overlay = new MemoryQuerier();
    const base = await this.options.source.querier(this.options.tenant);
    const querier = new MergeQuerier([overlay, base]);
    const qt = ts - this.queryOffset;
    const ctx: AlertContext = {
      externalLabels: this.options.externalLabels ?? {},
      externalURL: this.options.externalURL ?? '',
      query: async (expr) => templateQuery(await this.options.engine.instantQuery(querier, expr, qt)),
    };
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as Rule;
      const health = this.health[i] as RuleHealth;
      const ruleStarted = now();
      try {
        const result = await this.options.engine.instantQuery(querier, rule.spec.expr, qt);
        const vector = toVector(result.value, qt);
        const samples =
          rule instanceof RecordingRule
            ? rule.samples(vector, qt, this.spec.limit)
            : await rule.eval(vector, ts, this.queryOffset, this.spec.limit, ctx);
        const out = this.withStaleMarkers(i, samples, qt);
        await this.options.sink.write(this.options.tenant, out);
        for (const s of out) if (!isStaleNaN(s.v)) overlay.appendFloat(s.labels, s.t, s.v);
        health.health = 'ok';
        health.lastError = '';
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        health.health = 'err';
        health.lastError = e.message;
        // As in Prometheus, a failed evaluation writes nothing, stale markers included.
        this.options.onRuleError?.(rule, e);
      }
      health.lastEvaluation = ts;
      health.evaluationTime = (now() - ruleStarted) / 1000;
    }
    if (this.pendingRestore) {
      this.pendingRestore = false;
      await this.restore(querier, ts);
    }
    this.lastEvaluation = ts;
    this.evaluationTime = (now() - started) / 1000;
  }

  /** The rule's samples plus stale markers for the series it wrote last time and not now. */
  private withStaleMarkers(i: number, samples: RuleSample[], t: number): RuleSample[] {
    const prev = this.previous[i] as Map<string, Labels>;
    const next = new Map<string, Labels>();
    for (const s of samples) next.set(labelsId(s.labels), s.labels);
    const out = [...samples];
    for (const [id, labels] of prev) if (!next.has(id)) out.push({ labels, t, v: STALE_NAN });
    this.previous[i] = next;
    return out;
  }

  /** Prometheus' `RestoreForState`: alerts found active again keep how long they had been pending. */
  private async restore(querier: MergeQuerier, ts: number): Promise<void> {
    const tolerance = this.options.outageTolerance ?? 3_600_000;
    const grace = this.options.forGracePeriod ?? 600_000;
    for (const rule of this.rules) {
      if (!(rule instanceof AlertingRule)) continue;
      if (rule.spec.for < grace || rule.active.size === 0) {
        rule.restored = true;
        continue;
      }
      const matchers = [
        newMatcher('=', '__name__', 'ALERTS_FOR_STATE'),
        newMatcher('=', 'alertname', rule.name),
      ];
      const found = new Map<string, { t: number; v: number }>();
      try {
        for (const s of await querier.select({ mint: ts - tolerance, maxt: ts }, matchers)) {
          const it = s.iterator();
          let last: { t: number; v: number } | undefined;
          while (it.next() === ValueType.Float) if (!isStaleNaN(it.at())) last = { t: it.atT(), v: it.at() };
          if (last !== undefined) found.set(forStateId(s.labels), last);
        }
      } catch {
        // Nothing to restore from: the alerts start pending now, as after a first start.
      }
      rule.restoreFrom(found, ts, grace);
    }
  }
}

/**
 * Prometheus' `labels.Hash` of `{file=..., name=...}` in its default
 * (stringlabels) build: xxhash64 over each name and value, each preceded by
 * its length as a uvarint.
 */
function groupHash(name: string, file: string): bigint {
  const enc = new TextEncoder();
  const bytes: number[] = [];
  for (const s of ['file', file, 'name', name]) {
    const b = enc.encode(s);
    let n = b.length;
    while (n >= 0x80) {
      bytes.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(n);
    for (const x of b) bytes.push(x);
  }
  return xxhash64(Uint8Array.from(bytes));
}

/** A rule's result as a vector; a scalar becomes one sample without labels. */
function toVector(
  value: Awaited<ReturnType<QueryEngine['instantQuery']>>['value'],
  t: number,
): VectorSample[] {
  if (value.resultType === 'vector') return value.result;
  if (value.resultType === 'scalar') return [{ metric: [], t, f: value.result.f }];
  throw new RulesError('EVALUATION', 'rule result is not a vector or scalar');
}

function templateQuery(result: Awaited<ReturnType<QueryEngine['instantQuery']>>): TemplateSample[] {
  return toVector(result.value, 0).map((s) => ({ Labels: labelsMap(s.metric), Value: s.f }));
}
