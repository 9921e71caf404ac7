import type { Command } from 'commander';
import type { PromstreamConfig } from '../../config/config.js';
import { addConfigFlags } from '../../config/role-support.js';
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

/** The peak resident set size of this process, for the summaries (getrusage's maxrss). */
export function peakRssText(): string {
  return `peak RSS ${((process.resourceUsage().maxRSS * 1024) / 1048576).toFixed(1)} MiB`;
}

/** One line that says what a migration did. */
export function summary(
  verb: string,
  r: { copied: string[]; skipped: string[]; bytes: number; samples: number; seconds: number },
): string {
  return (
    `${verb} ${r.copied.length} blocks (${r.skipped.length} already present), ${r.samples} samples, ` +
    `${(r.bytes / 1048576).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s ` +
    `(${Math.round(r.samples / Math.max(r.seconds, 0.001))} samples/s), ${peakRssText()}`
  );
}

/** Ends the process with the error's code and message instead of a stack trace. */
export function failWith(err: unknown): never {
  const e = err as { code?: string; message?: string; cause?: unknown };
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  console.error(`error ${e.code ?? 'unknown'}: ${e.message ?? String(err)}${cause}`);
  process.exit(1);
}

/** `import blocks DIR`: TSDB block directories into the bucket. */
function blocksCommand(command: Command): void {
  addConfigFlags(
    command
      .command('blocks <dir>')
      .description(
        'copy TSDB block directories (promtool output, a Prometheus data dir) to <tenant>/<ULID>/',
      ),
    'import',
  )
    .option('--tenant <name>', 'tenant prefix in the bucket', 'anonymous')
    .option('--no-progress', 'no progress bar')
    .action(async (dir: string, opts: ImportFlags, cmd: Command) => {
      const config = await importConfig(cmd);
      const [{ openStore }, { importBlocks }] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors/migrate'),
      ]);
      const store = openStore(config, requireStore(config));
      const bar = await progressBar('import', opts.progress);
      try {
        const r = await importBlocks(dir, store, {
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
}

/** `import openmetrics FILE`: an OpenMetrics file into the bucket or onto the log. */
function openMetricsCommand(command: Command): void {
  addConfigFlags(
    command
      .command('openmetrics <file>')
      .description(
        'build blocks from an OpenMetrics or Prometheus text file (- for stdin) into the bucket (--store), streaming it, or write it onto the log (--to-log)',
      ),
    'import',
  )
    .option(
      '--to-log',
      'write SampleBatch records onto promstream.samples.v1 instead; the block builder builds them',
    )
    .option('--tenant <name>', 'tenant', 'anonymous')
    .option('--block-duration <ms>', 'block range in milliseconds (default two hours)', Number)
    .option('--format <format>', 'openmetrics, prometheus (ms timestamps) or auto', 'auto')
    .option('--skip-bad-lines', 'skip and count malformed lines instead of stopping at the first')
    .option('--tmp-dir <dir>', 'where block ranges spill while the input is read')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, opts: ImportFlags & TextFlags, cmd: Command) => {
      const config = await importConfig(cmd);
      if (opts.toLog === true) {
        const { parseTextFormat } = await import('@promstream/storage');
        let format: ReturnType<typeof parseTextFormat>;
        try {
          format = parseTextFormat(opts.format);
        } catch (err) {
          failWith(err);
        }
        await toLog(config, opts, (sink, onProgress) =>
          import('@promstream/stream-processors/migrate').then(({ importOpenMetricsToLog }) =>
            importOpenMetricsToLog(file, sink, {
              tenant: opts.tenant,
              onProgress,
              format,
              skipBadLines: opts.skipBadLines,
            }),
          ),
        );
        return;
      }
      await importText(file, config, opts);
    });
}

/** `import openmetrics FILE --store URL`: streams the text into blocks, uploading each as it is built. */
async function importText(
  file: string,
  config: PromstreamConfig,
  opts: ImportFlags & TextFlags,
): Promise<void> {
  const [storage, { openStore }, { importOpenMetrics }, { stat }] = await Promise.all([
    import('@promstream/storage'),
    import('../../config/index.js'),
    import('@promstream/stream-processors/migrate'),
    import('node:fs/promises'),
  ]);
  const store = openStore(config, requireStore(config));
  const size =
    file === '-'
      ? undefined
      : await stat(file).then(
          (s) => s.size,
          () => undefined,
        );
  const bar = opts.progress ? storage.textProgress({ totalBytes: size }) : undefined;
  try {
    const r = await importOpenMetrics(file, store, {
      tenant: opts.tenant,
      blockDuration: opts.blockDuration,
      format: storage.parseTextFormat(opts.format),
      skipBadLines: opts.skipBadLines,
      tmpDir: opts.tmpDir,
      onProgress: bar?.update,
    });
    bar?.done();
    process.stderr.write(storage.badLinesReport(r.text));
    console.log(summary('imported', r));
    console.log(storage.backfillSummary(r.text, r.seconds));
  } catch (err) {
    bar?.done();
    failWith(err);
  }
}

/** Flags of text imports. */
interface TextFlags {
  format?: string;
  skipBadLines?: boolean;
  tmpDir?: string;
}

/** `import remote-read URL`: a range of a running Prometheus into the bucket or onto the log. */
function remoteReadCommand(command: Command): void {
  addConfigFlags(
    command
      .command('remote-read <url>')
      .description(
        'read a range from a running Prometheus (remote read, e.g. http://host:9090/api/v1/read) into the bucket or onto the log',
      ),
    'import',
  )
    .option('--to-log', 'write SampleBatch records onto promstream.samples.v1 instead')
    .requiredOption(
      '--from <time>',
      'start, inclusive: Unix seconds (1700000000s), ms or RFC 3339',
      parseTime,
    )
    .requiredOption('--to <time>', 'end, exclusive, same forms', parseTime)
    .requiredOption('--match <selector...>', 'series selectors, e.g. up{job="node"}')
    .option('--tenant <name>', 'tenant', 'anonymous')
    .option('--block-duration <ms>', 'block range in milliseconds (default two hours)', Number)
    .option('--no-progress', 'no progress bar')
    .action(async (url: string, opts: RemoteReadFlags, cmd: Command) => {
      const config = await importConfig(cmd);
      const range = { from: opts.from, to: opts.to, match: opts.match, tenant: opts.tenant };
      if (opts.toLog === true) {
        await toLog(config, opts, (sink, onProgress) =>
          import('@promstream/stream-processors/migrate').then(({ importRemoteReadToLog }) =>
            importRemoteReadToLog(url, sink, { ...range, onProgress }),
          ),
        );
        return;
      }
      const [{ openStore }, { importRemoteRead }] = await Promise.all([
        import('../../config/index.js'),
        import('@promstream/stream-processors/migrate'),
      ]);
      const store = openStore(config, requireStore(config));
      const bar = await progressBar('import', opts.progress);
      try {
        const r = await importRemoteRead(url, store, {
          ...range,
          blockDuration: opts.blockDuration,
          onProgress: bar.onProgress,
        });
        bar.stop();
        console.log(summary('imported', r));
      } catch (err) {
        bar.stop();
        failWith(err);
      }
    });
}

/** `promstream import`: Prometheus blocks and OpenMetrics files into the bucket. */
export const importRole: Role = {
  name: 'import',
  summary: 'Import Prometheus TSDB blocks or OpenMetrics files into the bucket',
  configure(command: Command): void {
    blocksCommand(command);
    openMetricsCommand(command);
    remoteReadCommand(command);
  },
};

/** Flags of the imports that are not configuration settings. */
interface ImportFlags {
  toLog?: boolean;
  tenant: string;
  blockDuration?: number;
  progress: boolean;
}

type RemoteReadFlags = ImportFlags & { from: number; to: number; match: string[] };

async function importConfig(cmd: Command): Promise<PromstreamConfig> {
  const { roleConfig } = await import('../../config/index.js');
  return roleConfig(cmd, 'import');
}

/** The store an import writes to: it is never the default data directory, so it must be named. */
function requireStore(config: PromstreamConfig): string {
  if (config.objectStore === '') {
    console.error('give --store URL (blocks into the bucket) or --to-log (records onto the log)');
    process.exit(2);
  }
  return config.objectStore;
}

type LogProgress = { samples: number; records: number; bytes: number };

/**
 * Runs an import onto the log through ingest's writers. The total is not
 * known before the source is read, so progress is a line on stderr each
 * second with the rate, rather than a bar with an ETA.
 */
async function toLog(
  config: PromstreamConfig,
  opts: ImportFlags,
  run: (
    sink: import('@promstream/stream-processors/migrate').SeriesSink,
    onProgress: (p: LogProgress) => void,
  ) => Promise<LogProgress & { seconds: number }>,
): Promise<void> {
  const { createLogWriters } = await import('@promstream/ingest');
  // Imported samples are old on purpose: the records carry the backfill mark, so the block
  // builder places them by its backfill rules instead of refusing them as too old.
  const writers = createLogWriters({
    brokers: config.kafka.brokers,
    registryUrl: config.registryUrl,
    backfill: 'import',
  });
  const started = Date.now();
  let shown = 0;
  const onProgress = (p: LogProgress): void => {
    if (!opts.progress || Date.now() - shown < 1000) return;
    shown = Date.now();
    const rate = Math.round(p.samples / Math.max(0.001, (shown - started) / 1000));
    process.stderr.write(`import: ${p.samples} samples, ${p.records} records, ${rate} samples/s\n`);
  };
  try {
    const r = await run(writers.samples, onProgress);
    console.log(
      `wrote ${r.samples} samples in ${r.records} records (${(r.bytes / 1048576).toFixed(1)} MiB) onto the log in ` +
        `${r.seconds.toFixed(1)} s (${Math.round(r.samples / Math.max(r.seconds, 0.001))} samples/s), ${peakRssText()}`,
    );
  } catch (err) {
    failWith(err);
  } finally {
    await writers.producer.close();
  }
}
