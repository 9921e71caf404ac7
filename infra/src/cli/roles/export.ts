import type { Command } from 'commander';
import type { Role } from '../role.js';
import { failWith, parseTime, progressBar, summary } from './import.js';

/** `promstream export`: copy the blocks of a time range to another bucket. */
export const exportRole: Role = {
  name: 'export',
  summary: 'Export the blocks overlapping a time range to another bucket',
  configure(command: Command): void {
    command
      .requiredOption('--store <url>', 'source object store: file:///path, s3://bucket/prefix')
      .requiredOption('--to-store <url>', 'destination object store')
      .option('--from <time>', 'start, inclusive: Unix seconds (1700000000s), ms or RFC 3339', parseTime)
      .option('--to <time>', 'end, exclusive, same forms', parseTime)
      .option('--tenant <list>', 'only these tenants, comma separated (default all)')
      .option('--no-progress', 'no progress bar')
      .action(
        async (opts: {
          store: string;
          toStore: string;
          from?: number;
          to?: number;
          tenant?: string;
          progress: boolean;
        }) => {
          const [{ objectStoreFromUrl }, { exportBlocks }] = await Promise.all([
            import('@promstream/storage'),
            import('@promstream/stream-processors/migrate'),
          ]);
          const bar = await progressBar('export', opts.progress);
          try {
            const r = await exportBlocks(objectStoreFromUrl(opts.store), objectStoreFromUrl(opts.toStore), {
              from: opts.from,
              to: opts.to,
              tenants: opts.tenant?.split(','),
              onProgress: bar.onProgress,
            });
            bar.stop();
            console.log(summary('exported', r));
          } catch (err) {
            bar.stop();
            failWith(err);
          }
        },
      );
  },
};
