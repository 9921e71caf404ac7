/**
 * `promstream anomaly backtest`: scores history offline. Each watched query
 * is evaluated over [from, to] at the configured interval (range queries of
 * at most 10,000 steps), its result series go through `QueryWatch` (the
 * same path the online role takes) in time order, and every anomalous
 * episode is handed to `emit` as it closes, the open ones at the end. A
 * query that fails is reported to `onQueryError` and skipped; the others
 * still run.
 */
import {
  catalogBlockLister,
  openStorageBlock,
  type Querier,
  type QueryEngine,
  TenantBlocks,
} from '@promstream/query';
import { BucketCatalog, type ObjectStore } from '@promstream/storage';
import type { AnomalyConfig } from './config.js';
import type { Scored } from './model.js';
import { QueryWatch, type SeriesEpisode } from './watcher.js';

/** Steps per range query by default (the engine takes at most 11,000). */
const MAX_STEPS = 10_000;

/** What a backtest needs. */
export interface BacktestOptions {
  querier: Querier;
  engine: QueryEngine;
  config: AnomalyConfig;
  /** First and last evaluation time (ms). */
  from: number;
  to: number;
  emit: (e: SeriesEpisode) => void;
  onQueryError?: (query: string, err: unknown) => void;
  /** Steps per range query (default 10,000). */
  maxSteps?: number;
}

/** What a backtest did. */
export interface BacktestReport {
  evaluations: number;
  series: number;
  episodes: number;
  failedQueries: string[];
}

/** Runs the backtest (see the file comment). */
export async function runBacktest(o: BacktestOptions): Promise<BacktestReport> {
  const step = o.config.model.intervalMs;
  const maxSteps = o.maxSteps ?? MAX_STEPS;
  const report: BacktestReport = { evaluations: 0, series: 0, episodes: 0, failedQueries: [] };
  const emit = (e: SeriesEpisode) => {
    report.episodes++;
    o.emit(e);
  };
  const out: Scored = { score: 0, yhat: 0, lower: 0, upper: 0 };
  for (const query of o.config.queries) {
    const watch = new QueryWatch(query, o.config.model, o.config.closeAfter);
    try {
      for (let start = o.from; start <= o.to; start += maxSteps * step) {
        const end = Math.min(o.to, start + (maxSteps - 1) * step);
        const r = await o.engine.rangeQuery(o.querier, query.expr, start, end, step);
        if (r.value.resultType !== 'matrix') continue;
        report.evaluations += Math.floor((end - start) / step) + 1;
        for (const s of r.value.result) {
          const { t, f } = s.floats;
          for (let i = 0; i < t.length; i++) {
            const e = watch.observe(s.metric, t[i]!, f[i]!, out);
            if (e !== undefined) emit(e);
          }
        }
      }
    } catch (err) {
      report.failedQueries.push(query.name);
      o.onQueryError?.(query.name, err);
    }
    for (const e of watch.flush()) emit(e);
    report.series += watch.size;
  }
  return report;
}

/** A querier over one tenant's blocks in `store` (raw resolution, blocks marked for deletion left out). */
export async function blockQuerier(store: ObjectStore, tenant: string): Promise<Querier> {
  const blocks = new TenantBlocks({
    list: catalogBlockLister(new BucketCatalog(store), (s, prefix, meta) =>
      openStorageBlock(s, prefix, meta),
    ),
    refreshMs: Number.POSITIVE_INFINITY,
  });
  return blocks.querier(tenant);
}
