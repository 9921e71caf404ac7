import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { AlertingRule } from './alerting-rule.js';
import type { RuleGroup } from './group.js';
import { labelsMap } from './labels-util.js';
import type { AlertListener } from './manager.js';

/**
 * Sends alerts to Alertmanager's v2 API (`POST <url>/api/v2/alerts`) as
 * Prometheus' notifier does: after each evaluation, every firing or newly
 * resolved alert not sent within the resend delay is queued, valid for four
 * times the larger of the resend delay and the group interval (so
 * Alertmanager resolves it on its own if we stop); a resolved alert is sent
 * with its resolve time as `endsAt`. The queue (10,000 alerts, the oldest
 * dropped past that) goes out in batches of at most 256, to every
 * Alertmanager at once, each tenant's under its `X-Scope-OrgID`.
 */

/** One alert in Alertmanager's v2 format. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** Options of the notifier. Times in ms. */
export interface NotifierOptions {
  /** Alertmanager base URLs. */
  urls: readonly string[];
  /** Least time between two sends of one alert (default 1m). */
  resendDelay?: number;
  externalLabels?: Record<string, string>;
  externalURL?: string;
  /** Longest a send may take (default 10 s). */
  timeout?: number;
  logger: Logger;
  registry?: Registry;
  /** The HTTP client (injected in tests). */
  fetch?: typeof fetch;
}

const QUEUE_CAPACITY = 10_000;
const MAX_BATCH = 256;

/** Prometheus' notifier for Alertmanager v2. */
export class AlertmanagerNotifier implements AlertListener {
  private readonly queue: { tenant: string; alert: AmAlert }[] = [];
  private sending?: Promise<void>;
  private stopped = false;
  private readonly metrics;

  constructor(private readonly options: NotifierOptions) {
    const registers = options.registry === undefined ? [] : [options.registry];
    this.metrics = {
      sent: new Counter({
        name: 'promstream_notifications_sent_total',
        help: 'Alerts sent to Alertmanager, by Alertmanager.',
        labelNames: ['alertmanager'],
        registers,
      }),
      errors: new Counter({
        name: 'promstream_notifications_errors_total',
        help: 'Alerts whose send to an Alertmanager failed, by Alertmanager.',
        labelNames: ['alertmanager'],
        registers,
      }),
      dropped: new Counter({
        name: 'promstream_notifications_dropped_total',
        help: 'Alerts dropped because the queue was full.',
        registers,
      }),
    };
  }

  alertsEvaluated(tenant: string, group: RuleGroup, rule: AlertingRule, ts: number): void {
    const resend = this.options.resendDelay ?? 60_000;
    const delta = Math.max(resend, group.interval);
    for (const a of rule.active.values()) {
      if (a.state === 'pending') continue;
      const resolvedSinceSent =
        a.resolvedAt !== undefined && (a.lastSentAt === undefined || a.resolvedAt > a.lastSentAt);
      if (!resolvedSinceSent && a.lastSentAt !== undefined && a.lastSentAt + resend >= ts) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * delta;
      const labels = { ...(this.options.externalLabels ?? {}), ...labelsMap(a.labels) };
      this.enqueue(tenant, {
        labels,
        annotations: a.annotations,
        startsAt: new Date(a.activeAt).toISOString(),
        endsAt: new Date(a.resolvedAt ?? a.validUntil).toISOString(),
        generatorURL: `${this.options.externalURL ?? ''}/graph?g0.expr=${encodeURIComponent(rule.spec.expr)}&g0.tab=1`,
      });
    }
    this.kick();
  }

  /** Sends what is queued, then stops sending. */
  async stop(): Promise<void> {
    this.kick();
    await this.sending;
    this.stopped = true;
  }

  private enqueue(tenant: string, alert: AmAlert): void {
    this.queue.push({ tenant, alert });
    if (this.queue.length > QUEUE_CAPACITY) {
      const n = this.queue.length - QUEUE_CAPACITY;
      this.queue.splice(0, n);
      this.metrics.dropped.inc(n);
    }
  }

  private kick(): void {
    if (this.sending !== undefined || this.stopped || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const tenant = (this.queue[0] as { tenant: string }).tenant;
      const batch: AmAlert[] = [];
      while (batch.length < MAX_BATCH && this.queue[0]?.tenant === tenant)
        batch.push(this.queue.shift()!.alert);
      await Promise.all(this.options.urls.map((url) => this.send(url, tenant, batch)));
    }
  }

  private async send(base: string, tenant: string, batch: readonly AmAlert[]): Promise<void> {
    const doFetch = this.options.fetch ?? fetch;
    const url = `${base.replace(/\/+$/, '')}/api/v2/alerts`;
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(tenant === '' ? {} : { 'X-Scope-OrgID': tenant }),
        },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(this.options.timeout ?? 10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      this.metrics.sent.inc({ alertmanager: url }, batch.length);
    } catch (err) {
      this.metrics.errors.inc({ alertmanager: url }, batch.length);
      this.options.logger.warn(
        { alertmanager: url, alerts: batch.length, err: (err as Error).message },
        'send alerts',
      );
    }
  }
}
