import type { QueryEngine } from '@promstream/query';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { AlertingRule } from './alerting-rule.js';
import { type Rule, RuleGroup } from './group.js';
import type { GroupSpec } from './rule-file.js';
import type { RuleSink, RuleSource } from './seams.js';

/**
 * The rule manager: every tenant's groups, each evaluated on its own timer
 * at its slotted times, one evaluation of a group at a time (a late one
 * skips the slots it missed, as Prometheus does). A reload replaces the
 * groups and carries over the alerts and health of each group that still
 * exists (same tenant, file and name).
 */

/** Something that hears about alerts after each evaluation of an alerting rule (the notifier). */
export interface AlertListener {
  alertsEvaluated(tenant: string, group: RuleGroup, rule: AlertingRule, ts: number): void;
}

/** Options of the manager. Times in ms. */
export interface RulesManagerOptions {
  engine: QueryEngine;
  source: RuleSource;
  sink: RuleSink;
  /** Reads every tenant's groups (called at start and on each reload). */
  load: () => Promise<Map<string, GroupSpec[]>>;
  defaultInterval: number;
  defaultQueryOffset?: number;
  outageTolerance?: number;
  forGracePeriod?: number;
  externalLabels?: Record<string, string>;
  externalURL?: string;
  listener?: AlertListener;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
}

interface Scheduled {
  tenant: string;
  group: RuleGroup;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  stopped: boolean;
}

/** Every tenant's rule groups and their timers. */
export class RulesManager {
  private scheduled = new Map<string, Scheduled>();
  private readonly now: () => number;
  private readonly metrics;

  constructor(private readonly options: RulesManagerOptions) {
    this.now = options.now ?? Date.now;
    const registers = options.registry === undefined ? [] : [options.registry];
    this.metrics = {
      evaluations: new Counter({
        name: 'promstream_rule_evaluations_total',
        help: 'Rule evaluations, by tenant and group.',
        labelNames: ['tenant', 'rule_group'],
        registers,
      }),
      failures: new Counter({
        name: 'promstream_rule_evaluation_failures_total',
        help: 'Rule evaluations that failed (each failing rule counts once), by tenant and group.',
        labelNames: ['tenant', 'rule_group'],
        registers,
      }),
      missed: new Counter({
        name: 'promstream_rule_group_iterations_missed_total',
        help: 'Group evaluation slots skipped because the previous evaluation ran too long.',
        labelNames: ['tenant', 'rule_group'],
        registers,
      }),
      lag: new Histogram({
        name: 'promstream_rule_evaluation_lag_seconds',
        help: 'Time from a group evaluation slot to the end of its evaluation (results on the log).',
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    };
    const manager = this;
    new Gauge({
      name: 'promstream_rule_groups',
      help: 'Rule groups loaded.',
      registers,
      collect(this: Gauge) {
        this.set(manager.scheduled.size);
      },
    });
  }

  /** Loads the rules and starts every group's timer; a group restores its alerts from ALERTS_FOR_STATE. */
  async start(): Promise<void> {
    this.replace(await this.options.load(), true);
  }

  /** Reads the rules again; on an error the running groups stay as they are and the error is thrown. */
  async reload(): Promise<void> {
    const loaded = await this.options.load();
    this.replace(loaded, false);
    this.options.logger.info({ groups: this.scheduled.size }, 'rules reloaded');
  }

  /** The groups of one tenant, or of all tenants. */
  groups(tenant?: string): { tenant: string; group: RuleGroup }[] {
    return [...this.scheduled.values()]
      .filter((s) => tenant === undefined || s.tenant === tenant)
      .map((s) => ({ tenant: s.tenant, group: s.group }));
  }

  /** Stops every timer and waits for running evaluations. */
  async stop(): Promise<void> {
    const all = [...this.scheduled.values()];
    for (const s of all) this.unschedule(s);
    await Promise.all(all.map((s) => s.running));
  }

  private replace(loaded: Map<string, GroupSpec[]>, atStart: boolean): void {
    const next = new Map<string, Scheduled>();
    for (const [tenant, specs] of loaded) {
      for (const spec of specs) {
        const key = `${tenant}\0${spec.file}\0${spec.name}`;
        const old = this.scheduled.get(key);
        const group = this.newGroup(tenant, spec, atStart);
        if (old !== undefined) carryOver(old.group, group);
        next.set(key, { tenant, group, stopped: false });
      }
    }
    for (const s of this.scheduled.values()) this.unschedule(s);
    this.scheduled = next;
    for (const s of next.values()) this.schedule(s);
  }

  private newGroup(tenant: string, spec: GroupSpec, restore: boolean): RuleGroup {
    const o = this.options;
    return new RuleGroup(spec, {
      engine: o.engine,
      source: o.source,
      sink: o.sink,
      tenant,
      defaultInterval: o.defaultInterval,
      defaultQueryOffset: o.defaultQueryOffset,
      externalLabels: o.externalLabels,
      externalURL: o.externalURL,
      restore,
      outageTolerance: o.outageTolerance,
      forGracePeriod: o.forGracePeriod,
      now: this.now,
      onRuleError: (rule: Rule, err: Error) => {
        this.metrics.failures.inc({ tenant, rule_group: spec.name });
        o.logger.warn({ tenant, group: spec.name, rule: rule.name, err: err.message }, 'evaluate rule');
      },
    });
  }

  private unschedule(s: Scheduled): void {
    s.stopped = true;
    if (s.timer !== undefined) clearTimeout(s.timer);
  }

  /** Arms the timer for the group's next slot after now. */
  private schedule(s: Scheduled, after?: number): void {
    if (s.stopped) return;
    const now = this.now();
    let ts = s.group.evalTimestamp(now) + s.group.interval;
    if (after !== undefined && ts > after + s.group.interval)
      this.metrics.missed.inc(
        { tenant: s.tenant, rule_group: s.group.name },
        (ts - after) / s.group.interval - 1,
      );
    if (after !== undefined && ts <= after) ts = after + s.group.interval;
    s.timer = setTimeout(() => {
      s.running = this.run(s, ts).finally(() => {
        s.running = undefined;
        this.schedule(s, ts);
      });
    }, ts - now);
    s.timer.unref?.();
  }

  private async run(s: Scheduled, ts: number): Promise<void> {
    const labels = { tenant: s.tenant, rule_group: s.group.name };
    try {
      await s.group.evaluate(ts);
      this.metrics.evaluations.inc(labels);
      for (const r of s.group.rules)
        if (r instanceof AlertingRule) this.options.listener?.alertsEvaluated(s.tenant, s.group, r, ts);
    } catch (err) {
      this.metrics.failures.inc(labels);
      this.options.logger.warn({ ...labels, err: (err as Error).message }, 'evaluate rule group');
    }
    this.metrics.lag.observe(Math.max(0, this.now() - ts) / 1000);
  }
}

/** Keeps the alerts and health of a reloaded group's rules (matched by kind, name and position). */
function carryOver(from: RuleGroup, to: RuleGroup): void {
  to.rules.forEach((r, i) => {
    const old = from.rules[i];
    if (old === undefined || old.kind !== r.kind || old.name !== r.name) return;
    if (r instanceof AlertingRule && old instanceof AlertingRule) {
      for (const [k, a] of old.active) r.active.set(k, a);
      r.restored = old.restored;
    }
    Object.assign(to.health[i]!, from.health[i]);
  });
  to.lastEvaluation = from.lastEvaluation;
  to.evaluationTime = from.evaluationTime;
}
