import type { Command } from 'commander';
import type { Role } from '../role.js';

/** Parses a time: Unix seconds with `s`, plain milliseconds, or RFC 3339. */
export function parseTime(text: string): number {
  const secs = /^(\d+(?:\.\d+)?)s$/.exec(text);
  if (secs !== null) return Math.round(Number(secs[1]) * 1000);
  if (/^-?\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new Error(
      `${JSON.stringify(text)}: expected Unix seconds (1700000000s), milliseconds or an RFC 3339 time`,
    );
  }
  return t;
}

/** Progress as the bar shows it; the shape every migration reports. */
interface BarProgress {
  blocks: number;
  totalBlocks: number;
  bytes: number;
  totalBytes: number;
  samples: number;
  skipped: number;
}

/**
 * A progress bar on stderr with rate and ETA over bytes, or nothing when
 * `--no-progress` was given. Returns the callback and a stop function.
 */
export async function progressBar(
  label: string,
  enabled: boolean,
): Promise<{ onProgress?: (p: BarProgress) => void; stop: () => void }> {
  if (!enabled) return { stop: () => {} };
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {blocks}/{totalBlocks} blocks ({skipped} present) | {mib}/{totalMib} MiB | {rate} MiB/s | {samples} samples | ETA {eta_formatted}`,
      hideCursor: true,
      stream: process.stderr,
    },
    progress.Presets.shades_classic,
  );
  const started = Date.now();
  let begun = false;
  const mib = (n: number): string => (n / 1048576).toFixed(1);
  return {
    onProgress: (p) => {
      const payload = {
        blocks: p.blocks,
        totalBlocks: p.totalBlocks,
        skipped: p.skipped,
        samples: p.samples,
        mib: mib(p.bytes),
        totalMib: mib(p.totalBytes),
        rate: mib(p.bytes / Math.max(0.001, (Date.now() - started) / 1000)),
      };
      if (!begun) {
        bar.start(Math.max(1, p.totalBytes), 0, payload);
        begun = true;
      }
      bar.update(p.bytes, payload);
    },
    stop: () => {
      if (begun) bar.stop();
    },
  };
}

/** One line that says what a migration did. */
export function summary(
  verb: string,
  r: { copied: string[]; skipped: string[]; bytes: number; samples: number; seconds: number },
): string {
  return (
    `${verb} ${r.copied.length} blocks (${r.skipped.length} already present), ${r.samples} samples, ` +
    `${(r.bytes / 1048576).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s ` +
    `(${Math.round(r.samples / Math.max(r.seconds, 0.001))} samples/s)`
  );
}

/** Ends the process with the error's code and message instead of a stack trace. */
export function failWith(err: unknown): never {
  const e = err as { code?: string; message?: string; cause?: unknown };
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  console.error(`error ${e.code ?? 'unknown'}: ${e.message ?? String(err)}${cause}`);
  process.exit(1);
}

/** `promstream import`: Prometheus blocks and OpenMetrics files into the bucket. */
export const importRole: Role = {
  name: 'import',
  summary: 'Import Prometheus TSDB blocks or OpenMetrics files into the bucket',
  configure(command: Command): void {
    command
      .command('blocks <dir>')
      .description('copy TSDB block directories (promtool output, a Prometheus data dir) to <tenant>/<ULID>/')
      .requiredOption('--store <url>', 'object store: file:///path, mem://, s3://bucket/prefix')
      .option('--tenant <name>', 'tenant prefix in the bucket', 'anonymous')
      .option('--no-progress', 'no progress bar')
      .action(async (dir: string, opts: { store: string; tenant: string; progress: boolean }) => {
        const [{ objectStoreFromUrl }, { importBlocks }] = await Promise.all([
          import('@promstream/storage'),
          import('@promstream/stream-processors/migrate'),
        ]);
        const bar = await progressBar('import', opts.progress);
        try {
          const r = await importBlocks(dir, objectStoreFromUrl(opts.store), {
            tenant: opts.tenant,
            onProgress: bar.onProgress,
          });
          bar.stop();
          console.log(summary('imported', r));
        } catch (err) {
          bar.stop();
          failWith(err);
        }
      });
    command
      .command('openmetrics <file>')
      .description('build blocks from an OpenMetrics text file straight into the bucket')
      .requiredOption('--store <url>', 'object store: file:///path, mem://, s3://bucket/prefix')
      .option('--tenant <name>', 'tenant prefix in the bucket', 'anonymous')
      .option('--block-duration <ms>', 'block range in milliseconds (default two hours)', Number)
      .option('--no-progress', 'no progress bar')
      .action(
        async (
          file: string,
          opts: { store: string; tenant: string; blockDuration?: number; progress: boolean },
        ) => {
          const [{ objectStoreFromUrl }, { importOpenMetrics }] = await Promise.all([
            import('@promstream/storage'),
            import('@promstream/stream-processors/migrate'),
          ]);
          const bar = await progressBar('import', opts.progress);
          try {
            const r = await importOpenMetrics(file, objectStoreFromUrl(opts.store), {
              tenant: opts.tenant,
              blockDuration: opts.blockDuration,
              onProgress: bar.onProgress,
            });
            bar.stop();
            console.log(summary('imported', r));
          } catch (err) {
            bar.stop();
            failWith(err);
          }
        },
      );
    command
      .command('remote-read <url>')
      .description(
        'read a range from a running Prometheus (remote read, e.g. http://host:9090/api/v1/read) into the bucket',
      )
      .requiredOption('--store <url>', 'object store: file:///path, mem://, s3://bucket/prefix')
      .requiredOption(
        '--from <time>',
        'start, inclusive: Unix seconds (1700000000s), ms or RFC 3339',
        parseTime,
      )
      .requiredOption('--to <time>', 'end, exclusive, same forms', parseTime)
      .requiredOption('--match <selector...>', 'series selectors, e.g. up{job="node"}')
      .option('--tenant <name>', 'tenant prefix in the bucket', 'anonymous')
      .option('--block-duration <ms>', 'block range in milliseconds (default two hours)', Number)
      .option('--no-progress', 'no progress bar')
      .action(
        async (
          url: string,
          opts: {
            store: string;
            from: number;
            to: number;
            match: string[];
            tenant: string;
            blockDuration?: number;
            progress: boolean;
          },
        ) => {
          const [{ objectStoreFromUrl }, { importRemoteRead }] = await Promise.all([
            import('@promstream/storage'),
            import('@promstream/stream-processors/migrate'),
          ]);
          const bar = await progressBar('import', opts.progress);
          try {
            const r = await importRemoteRead(url, objectStoreFromUrl(opts.store), {
              from: opts.from,
              to: opts.to,
              match: opts.match,
              tenant: opts.tenant,
              blockDuration: opts.blockDuration,
              onProgress: bar.onProgress,
            });
            bar.stop();
            console.log(summary('imported', r));
          } catch (err) {
            bar.stop();
            failWith(err);
          }
        },
      );
  },
};
