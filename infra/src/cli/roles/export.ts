import type { Command } from 'commander';
import type { PromstreamConfig } from '../../config/config.js';
import { addConfigFlags } from '../../config/role-support.js';
import type { Role } from '../role.js';
import { failWith, parseTime, peakRssText, progressBar, summary } from './import.js';
import { parsePoint } from './replay.js';

/** Flags of the export that are not configuration settings (the source comes from the configuration). */
interface ExportFlags {
  toStore?: string;
  toBrokers?: string;
  topic: string;
  toTopic?: string;
  from?: string;
  to?: string;
  tenant?: string;
  progress: boolean;
}

/** Blocks overlapping [from, to) from one bucket to another. */
async function exportToStore(
  config: PromstreamConfig,
  opts: ExportFlags & { toStore: string },
): Promise<void> {
  const [{ openStore }, { exportBlocks }] = await Promise.all([
    import('../../config/index.js'),
    import('@promstream/stream-processors/migrate'),
  ]);
  const bar = await progressBar('export', opts.progress);
  try {
    const r = await exportBlocks(openStore(config), openStore(config, opts.toStore), {
      from: opts.from === undefined ? undefined : parseTime(opts.from),
      to: opts.to === undefined ? undefined : parseTime(opts.to),
      tenants: opts.tenant?.split(','),
      onProgress: bar.onProgress,
    });
    bar.stop();
    console.log(summary('exported', r));
  } catch (err) {
    bar.stop();
    failWith(err);
  }
}

/** Raw records of [from, to) from one Kafka cluster to another. */
async function exportToBrokers(
  config: PromstreamConfig,
  opts: ExportFlags & { toBrokers: string },
): Promise<void> {
  const [{ exportLog }, { default: progress }] = await Promise.all([
    import('@promstream/stream-processors/migrate'),
    import('cli-progress'),
  ]);
  const bar = opts.progress
    ? new progress.SingleBar(
        {
          format:
            'export [{bar}] {percentage}% | {value}/{total} records | {rate} rec/s | {mib} MiB | ETA {eta_formatted}',
          hideCursor: true,
          stream: process.stderr,
        },
        progress.Presets.shades_classic,
      )
    : undefined;
  const started = Date.now();
  let begun = false;
  try {
    const r = await exportLog({
      brokers: config.kafka.brokers,
      toBrokers: opts.toBrokers.split(','),
      topic: opts.topic,
      toTopic: opts.toTopic,
      from: opts.from === undefined ? undefined : parsePoint(opts.from),
      to: opts.to === undefined ? undefined : parsePoint(opts.to),
      onProgress: (p) => {
        if (bar === undefined) return;
        const payload = {
          rate: Math.round(p.records / Math.max(0.001, (Date.now() - started) / 1000)),
          mib: (p.bytes / 1048576).toFixed(1),
        };
        if (!begun) {
          bar.start(Math.max(1, p.totalRecords), 0, payload);
          begun = true;
        }
        bar.update(p.records, payload);
      },
    });
    if (begun) bar?.stop();
    console.log(
      `exported ${r.records} records, ${(r.bytes / 1048576).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s, ${peakRssText()}; ` +
        `to resume, per partition next offset: ${JSON.stringify(r.next)}`,
    );
  } catch (err) {
    if (begun) bar?.stop();
    failWith(err);
  }
}

/** `promstream export`: blocks of a time range to another bucket, or log records to another cluster. */
export const exportRole: Role = {
  name: 'export',
  summary: 'Export blocks of a time range to another bucket, or log records to another Kafka cluster',
  configure(command: Command): void {
    addConfigFlags(command, 'export')
      .option('--to-store <url>', 'destination object store (with --store); the s3 settings apply to both')
      .option('--to-brokers <list>', 'destination Kafka brokers (with --brokers)')
      .option('--topic <topic>', 'topic to export with --to-brokers', 'promstream.samples.v1')
      .option('--to-topic <topic>', 'destination topic (default the same name)')
      .option(
        '--from <point>',
        'start, inclusive: Unix seconds (1700000000s) or RFC 3339; a plain number is ms for blocks, an offset for records',
      )
      .option('--to <point>', 'end, exclusive, same forms')
      .option('--tenant <list>', 'only these tenants, comma separated (blocks; default all)')
      .option('--no-progress', 'no progress bar')
      .action(async (opts: ExportFlags, cmd: Command) => {
        const { roleConfig } = await import('../../config/index.js');
        const config = roleConfig(cmd, 'export');
        if (opts.toStore !== undefined && config.objectStore !== '') {
          await exportToStore(config, { ...opts, toStore: opts.toStore });
        } else if (opts.toBrokers !== undefined) {
          await exportToBrokers(config, { ...opts, toBrokers: opts.toBrokers });
        } else {
          console.error('export needs --store and --to-store, or --brokers and --to-brokers');
          process.exit(2);
        }
      });
  },
};
