import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import type { Role } from '../role.js';

/** Parses `--from`/`--to`: a plain number is an offset, anything else a time (RFC 3339 or Unix seconds with `s`). */
export function parsePoint(text: string): { offset: number } | { time: number } {
  if (/^\d+$/.test(text)) return { offset: Number(text) };
  const secs = /^(\d+(?:\.\d+)?)s$/.exec(text);
  if (secs !== null) return { time: Math.round(Number(secs[1]) * 1000) };
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new Error(
      `${JSON.stringify(text)}: expected an offset (123), Unix seconds (1700000000s) or an RFC 3339 time`,
    );
  return { time: t };
}

/** `promstream replay`: rebuild blocks from the log over an offset or time range. */
export const replayRole: Role = {
  name: 'replay',
  summary: 'Rebuild blocks from the log between two offsets or times (recovery and migration)',
  configure(command: Command): void {
    addConfigFlags(command, 'replay')
      .option(
        '--from <point>',
        'start: an offset, Unix seconds (1700000000s) or an RFC 3339 time',
        parsePoint,
      )
      .option('--to <point>', 'end (exclusive), same forms; default the end of the log now', parsePoint)
      .option('--partitions <list>', 'only these partitions, e.g. 0,3')
      .option('--no-progress', 'no progress bar')
      .action(async (opts: Record<string, unknown>, cmd: Command) => {
        const [
          { roleConfig, objectStoreUrl, s3Settings },
          { runReplay },
          { default: pino },
          { default: progress },
        ] = await Promise.all([
          import('../../config/index.js'),
          import('@promstream/stream-processors'),
          import('pino'),
          import('cli-progress'),
        ]);
        const config = roleConfig(cmd, 'replay');
        const logger = pino({ name: 'replay', level: config.logLevel === 'info' ? 'warn' : config.logLevel });
        const bar =
          opts.progress === false
            ? undefined
            : new progress.SingleBar(
                {
                  format:
                    'replay [{bar}] {percentage}% | {value}/{total} records | {rate} rec/s | {samples} samples | {blocks} blocks | ETA {eta_formatted}',
                  hideCursor: true,
                },
                progress.Presets.shades_classic,
              );
        const started = Date.now();
        let begun = false;
        const result = await runReplay({
          brokers: config.kafka.brokers,
          registryUrl: config.registryUrl,
          storeUrl: objectStoreUrl(config),
          s3: s3Settings(config),
          topic: config.kafka.samplesTopic,
          blockDuration: config.blockBuilder.blockDuration,
          outOfOrderWindow: config.blockBuilder.outOfOrderWindow,
          futureGrace: config.blockBuilder.futureGrace,
          backfillIdle: config.blockBuilder.backfillIdle,
          from: opts.from as { offset: number } | { time: number } | undefined,
          to: opts.to as { offset: number } | { time: number } | undefined,
          partitions:
            opts.partitions === undefined
              ? undefined
              : String(opts.partitions)
                  .split(',')
                  .map((p) => Number(p)),
          logger,
          onProgress: (p) => {
            if (bar === undefined) return;
            const rate = Math.round(p.records / Math.max(0.001, (Date.now() - started) / 1000));
            if (!begun) {
              bar.start(p.totalRecords, 0, { rate, samples: 0, blocks: 0 });
              begun = true;
            }
            bar.update(p.records, { rate, samples: p.samples, blocks: p.blocks });
          },
        });
        bar?.stop();
        console.log(
          `replayed ${result.records} records, ${result.samples} samples into ${result.blocks} blocks in ${result.seconds.toFixed(1)} s ` +
            `(${Math.round(result.samples / Math.max(result.seconds, 0.001))} samples/s); ${result.dropped} late samples dropped; ` +
            `peak RSS ${((process.resourceUsage().maxRSS * 1024) / 1048576).toFixed(1)} MiB`,
        );
        const bad = Object.entries(result.unprocessable);
        if (bad.length > 0)
          console.log(
            `records that cannot be processed (the block builder dead-letters them): ${bad.map(([r, n]) => `${n} ${r}`).join(', ')}`,
          );
      });
  },
};
