import type { VectorSample } from '@promstream/query';
import type { Labels } from '@promstream/storage';
import { RulesError } from './errors.js';
import { labelsFrom, labelsId, labelsMap } from './labels-util.js';
import type { RuleSpec } from './rule-file.js';
import type { RuleSample } from './seams.js';
import { AlertTemplate, type TemplateQuery } from './template.js';

/**
 * An alerting rule with Prometheus' state machine (rules/alerting.go): each
 * label set the expression returns is an alert, pending from its first
 * evaluation and firing once it has been pending for `for`; when it stops
 * being returned it is resolved, unless it was firing and `keep_firing_for`
 * keeps it firing a while longer. Resolved alerts are kept 15 minutes (so
 * Alertmanager hears that they resolved). Each evaluation writes `ALERTS`
 * (1 per pending or firing alert, with `alertstate`) and `ALERTS_FOR_STATE`
 * (the time it became active, in seconds), from which a restart restores
 * how long an alert has been pending.
 */

/** The state of an alert. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/** One alert of a rule. Times in ms. */
export interface Alert {
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  value: number;
  activeAt: number;
  firedAt?: number;
  resolvedAt?: number;
  keepFiringSince?: number;
  /** When it was last sent to Alertmanager (the notifier's bookkeeping). */
  lastSentAt?: number;
  /** Until when Alertmanager should hold it (the notifier's bookkeeping). */
  validUntil?: number;
}

/** How long a resolved alert is kept, as Prometheus keeps it. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** Where alert templates and restore read their context from. */
export interface AlertContext {
  externalLabels: Record<string, string>;
  externalURL: string;
  /** Runs `query` in templates (at the evaluation time). */
  query?: TemplateQuery;
}

/** An alerting rule and its alerts. */
export class AlertingRule {
  readonly kind = 'alert';
  /** The alerts by label set. */
  readonly active = new Map<string, Alert>();
  /** False until state was restored after a start; no ALERTS are written before. */
  restored = true;
  private readonly labelTemplates: [string, AlertTemplate][];
  private readonly annotationTemplates: [string, AlertTemplate][];

  constructor(
    readonly spec: RuleSpec,
    /** Rule labels with the group's labels merged under them. */
    readonly labels: Record<string, string>,
  ) {
    const name = `__alert_${spec.name}`;
    this.labelTemplates = Object.entries(labels).map(([k, v]) => [k, new AlertTemplate(name, v)]);
    this.annotationTemplates = Object.entries(spec.annotations).map(([k, v]) => [
      k,
      new AlertTemplate(name, v),
    ]);
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * Applies one evaluation's result at `ts` (ms) and returns the ALERTS and
   * ALERTS_FOR_STATE samples, stamped `ts - queryOffset`.
   */
  async eval(
    vector: readonly VectorSample[],
    ts: number,
    queryOffset: number,
    limit: number,
    ctx: AlertContext,
  ): Promise<RuleSample[]> {
    const current = new Map<string, Alert>();
    for (const s of vector) {
      const alert = await this.alertOf(s, ctx);
      const id = labelsId(alert.labels);
      if (current.has(id))
        throw new RulesError(
          'EVALUATION',
          'vector contains metrics with the same labelset after applying alert labels',
        );
      current.set(id, { ...alert, activeAt: ts });
    }
    for (const [id, a] of current) {
      const existing = this.active.get(id);
      if (existing !== undefined && existing.state !== 'inactive') {
        existing.value = a.value;
        existing.annotations = a.annotations;
        continue;
      }
      this.active.set(id, a);
    }
    const out: RuleSample[] = [];
    const t = ts - queryOffset;
    let activeCount = 0;
    for (const [id, a] of this.active) {
      if (!current.has(id)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.spec.keepFiringFor > 0) {
          a.keepFiringSince ??= ts;
          keepFiring = ts - a.keepFiringSince < this.spec.keepFiringFor;
        }
        if (!keepFiring) {
          if (
            a.state === 'pending' ||
            (a.resolvedAt !== undefined && ts - a.resolvedAt > RESOLVED_RETENTION_MS)
          )
            this.active.delete(id);
          if (a.state !== 'inactive') {
            a.state = 'inactive';
            a.resolvedAt = ts;
          }
          continue;
        }
      } else a.keepFiringSince = undefined;
      activeCount++;
      if (a.state === 'pending' && ts - a.activeAt >= this.spec.for) {
        a.state = 'firing';
        a.firedAt = ts;
      }
      if (this.restored) {
        out.push({ labels: withName(a.labels, 'ALERTS', a.state), t, v: 1 });
        out.push({ labels: withName(a.labels, 'ALERTS_FOR_STATE'), t, v: Math.floor(a.activeAt / 1000) });
      }
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new RulesError('EVALUATION', `exceeded limit of ${limit} with ${activeCount} alerts`);
    }
    return out;
  }

  /** The alert a sample stands for: its labels without the name, the rule's labels, expanded annotations. */
  private async alertOf(s: VectorSample, ctx: AlertContext): Promise<Omit<Alert, 'activeAt'>> {
    const metric = labelsMap(s.metric);
    const data = {
      labels: metric,
      externalLabels: ctx.externalLabels,
      externalURL: ctx.externalURL,
      value: s.f,
      query: ctx.query,
    };
    const map = { ...metric };
    delete map.__name__;
    for (const [k, tmpl] of this.labelTemplates) map[k] = await expand(tmpl, data);
    map.alertname = this.spec.name;
    const annotations: Record<string, string> = {};
    for (const [k, tmpl] of this.annotationTemplates) annotations[k] = await expand(tmpl, data);
    return { labels: labelsFrom(map), annotations, state: 'pending', value: s.f };
  }

  /** Alerts currently pending or firing. */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.state !== 'inactive');
  }

  /**
   * Restores `activeAt` of the alerts found by the first evaluation from the
   * `ALERTS_FOR_STATE` series written before a restart, as Prometheus'
   * `RestoreForState` does: `series` maps a label-set id to the last sample
   * (time ms, value = active-at seconds) within the outage tolerance.
   */
  restoreFrom(
    series: ReadonlyMap<string, { t: number; v: number }>,
    ts: number,
    forGracePeriod: number,
  ): void {
    for (const [id, a] of this.active) {
      const last = series.get(id);
      if (last === undefined) continue;
      const downAt = last.t;
      let activeAt = last.v * 1000;
      const remaining = this.spec.for - (downAt - activeAt);
      if (remaining <= 0) {
        // It was firing when evaluation stopped; the next evaluation fires it again if it still holds.
      } else if (remaining < forGracePeriod) activeAt = ts + forGracePeriod - this.spec.for;
      else activeAt += ts - downAt;
      a.activeAt = activeAt;
    }
    this.restored = true;
  }
}

async function expand(tmpl: AlertTemplate, data: Parameters<AlertTemplate['expand']>[0]): Promise<string> {
  try {
    return await tmpl.expand(data);
  } catch (err) {
    return `<error expanding template: ${(err as Error).message}>`;
  }
}

/** An alert's labels with `__name__` (and `alertstate` for ALERTS) set. */
function withName(labels: Labels, name: string, state?: AlertState): Labels {
  const map = labelsMap(labels);
  map.__name__ = name;
  if (state !== undefined) map.alertstate = state;
  return labelsFrom(map);
}

/** The id under which an ALERTS_FOR_STATE series matches its alert: its labels without the name. */
export function forStateId(series: Labels): string {
  const map = labelsMap(series);
  delete map.__name__;
  return labelsId(labelsFrom(map));
}
