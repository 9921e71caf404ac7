import type { Logger } from 'pino';
import type { WriteSeries } from '../remote-write/types.js';
import { defaultLimits, knownNames, validateSeries } from '../remote-write/validate.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { Collector, HostPaths, MetricFamily } from './collectors/index.js';
import { familiesToSeries } from './exposition.js';
import type { PluginRunner } from './plugins.js';
import type { RecentStore } from './recent-store.js';
import { type ScrapeTarget, scrapeTarget } from './scrape/scraper.js';

/** What one collection reads and where its series go. */
export interface CollectionOptions {
  collectors: readonly Collector[];
  paths: HostPaths;
  scrapeTargets: readonly ScrapeTarget[];
  /** Labels put on the host collectors' series. */
  instance: string;
  job: string;
  recent: RecentStore;
  metrics: AgentMetrics;
  logger: Logger;
  now: () => number;
  /** Receives every valid series collected. */
  onSeries: (series: WriteSeries[]) => void;
}

/**
 * The agent's collection: the host collectors, then the exporters it
 * scrapes, then a poll of its plugins. Series that break the label rules the
 * gateway enforces (a plugin or exporter with a bad name) are dropped here,
 * so none of them can ever block the buffer.
 */
export class Collection {
  /** The host collectors' families of the last collection, for the agent's /metrics. */
  latest: MetricFamily[] = [];
  plugins: readonly PluginRunner[] = [];
  private readonly known = knownNames();

  constructor(private readonly o: CollectionOptions) {}

  /** Validates series, keeps them for the local query API and hands them on. */
  readonly push = (collected: WriteSeries[]): void => {
    const { metrics: m, logger } = this.o;
    const series = collected.filter((s) => {
      try {
        validateSeries(s, defaultLimits, this.known);
        return true;
      } catch (err) {
        m.invalid.inc();
        logger.debug({ reason: (err as Error).message }, 'dropped an invalid series');
        return false;
      }
    });
    if (series.length === 0) return;
    m.samples.inc(series.length);
    this.o.recent.add(series, this.o.now());
    this.o.onSeries(series);
  };

  /** Runs one collection. */
  async collect(): Promise<void> {
    const { metrics: m, logger, paths } = this.o;
    const t = this.o.now();
    const families: MetricFamily[] = [];
    for (const c of this.o.collectors) {
      const started = performance.now();
      try {
        families.push(...(await c.collect(paths)));
        m.collectorSuccess.set({ collector: c.name }, 1);
      } catch (err) {
        m.collectorSuccess.set({ collector: c.name }, 0);
        logger.warn({ collector: c.name, err: (err as Error).message }, 'collector failed');
      }
      m.collectorDuration.set({ collector: c.name }, (performance.now() - started) / 1000);
    }
    this.latest = families;
    this.push(familiesToSeries(families, t, { instance: this.o.instance, job: this.o.job }));
    for (const target of this.o.scrapeTargets) this.push(await scrapeTarget(target, t));
    for (const p of this.plugins) p.collect();
  }
}
