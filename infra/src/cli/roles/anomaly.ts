import type { Command } from 'commander';
import type { Role } from '../role.js';
import { failWith, parseTime } from './import.js';

/** Flags of `promstream anomaly backtest`. */
interface BacktestFlags {
  config: string;
  store: string;
  from: string;
  to: string;
  tenant: string;
  out?: string;
}

/**
 * Scores the bucket's history with the watch configuration and prints one
 * JSON line per anomalous episode (stdout, or `--out`). The S3 settings for
 * an s3:// URL come from the promstream configuration (environment).
 */
async function backtest(opts: BacktestFlags): Promise<void> {
  const [{ readFileSync, createWriteStream }, { parse }, config, anomaly, { Engine }] = await Promise.all([
    import('node:fs'),
    import('yaml'),
    import('../../config/index.js'),
    import('@promstream/stream-processors/anomaly'),
    import('@promstream/query'),
  ]);
  try {
    const watch = anomaly.anomalyConfig(parse(readFileSync(opts.config, 'utf8')));
    const store = config.openStore(config.loadConfig({ env: process.env }), opts.store);
    const out = opts.out === undefined ? process.stdout : createWriteStream(opts.out);
    const iso = (ms: number) => new Date(ms).toISOString();
    const report = await anomaly.runBacktest({
      querier: await anomaly.blockQuerier(store, opts.tenant),
      engine: new Engine(),
      config: watch,
      from: parseTime(opts.from),
      to: parseTime(opts.to),
      emit: (e) => {
        const labels = Object.fromEntries(e.labels.map((l) => [l.name, l.value]));
        const line = {
          query: e.query,
          labels,
          start: iso(e.start),
          end: iso(e.end),
          peak_score: e.peakScore,
          peak_at: iso(e.peakAt),
          expected: e.expected,
          actual: e.actual,
          model: e.model,
        };
        out.write(`${JSON.stringify(line)}\n`);
      },
      onQueryError: (q, err) => console.error(`query ${q}: ${(err as Error).message ?? String(err)}`),
    });
    if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
    console.error(
      `backtest: ${report.series} series, ${report.evaluations} evaluations, ${report.episodes} episodes` +
        (report.failedQueries.length > 0 ? `; failed queries: ${report.failedQueries.join(', ')}` : ''),
    );
    if (report.failedQueries.length > 0) process.exitCode = 1;
  } catch (err) {
    failWith(err);
  }
}

/** `promstream anomaly`: anomaly detection on watched PromQL queries. */
export const anomalyRole: Role = {
  name: 'anomaly',
  summary: 'Anomaly detection on watched PromQL queries (backtest: score the bucket history)',
  configure(command: Command): void {
    command
      .command('backtest')
      .description('score history with the watch configuration; one JSON line per anomalous episode')
      .requiredOption(
        '--config <file>',
        'watch configuration (YAML: queries, model, interval, training_window, sensitivity)',
      )
      .requiredOption('--store <url>', 'object store URL (file:///path, s3://bucket/prefix)')
      .requiredOption('--from <time>', 'first evaluation: Unix seconds (1700000000s), ms or RFC 3339')
      .requiredOption('--to <time>', 'last evaluation, same forms')
      .option('--tenant <id>', 'tenant whose blocks are read', 'anonymous')
      .option('--out <file>', 'write the JSON lines to this file instead of stdout')
      .action(async (opts: BacktestFlags) => backtest(opts));
  },
};
