import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import { parsePositiveInt } from '../parse.js';
import type { Role } from '../role.js';

function time(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`time ${value}: expected milliseconds since the epoch`);
  return n;
}

/** Runs a command body, printing a failure as one line on stderr with exit code 1. */
async function guarded(f: () => Promise<void>): Promise<void> {
  exitOnClosedPipe();
  try {
    await f();
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? ` [${String(e.code)}]` : '';
    process.stderr.write(`error${code}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

/** The S3 settings of the configuration, for store URLs given as arguments. */
async function s3(cmd: Command) {
  const { roleConfig, s3Settings } = await import('../../config/index.js');
  return s3Settings(roleConfig(cmd, 'block'));
}

const write = (text: string): void => {
  process.stdout.write(text);
};

/** A closed pipe (`dump | head`) ends the command quietly, as for promtool. */
function exitOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/** Flags of `block create-from-openmetrics`. */
interface CreateFlags {
  blockDuration: string;
  format: string;
  skipBadLines?: boolean;
  tmpDir?: string;
  progress: boolean;
}

/** `promstream block`: build, dump and analyze TSDB blocks, as promtool's tsdb commands. */
export const blockRole: Role = {
  name: 'block',
  summary: 'Build blocks from OpenMetrics, dump and analyze blocks (like promtool tsdb)',
  configure(command: Command): void {
    addConfigFlags(command.command('create-from-openmetrics'), 'block')
      .description(
        'Write TSDB blocks from an OpenMetrics or Prometheus text file (- for stdin) into DIR, streaming it',
      )
      .argument('<file>', 'OpenMetrics (ending in # EOF) or Prometheus text with timestamps')
      .argument('<dir>', 'output directory or store URL (file:///, s3://bucket/prefix)')
      .option('--block-duration <duration>', 'block range, e.g. 2h', '2h')
      .option('--format <format>', 'openmetrics, prometheus (ms timestamps) or auto', 'auto')
      .option('--skip-bad-lines', 'skip and count malformed lines instead of stopping at the first')
      .option(
        '--tmp-dir <dir>',
        'where block ranges spill while the input is read (default the system temp dir)',
      )
      .option('--no-progress', 'no progress on stderr')
      .action(async (file: string, dir: string, opts: CreateFlags, cmd: Command) => {
        await guarded(async () => {
          const { createFromOpenMetricsCommand } = await import('@promstream/storage');
          await createFromOpenMetricsCommand(file, dir, { ...opts, s3: await s3(cmd) }, write);
        });
      });
    addConfigFlags(command.command('dump'), 'block')
      .description('Print the samples of the blocks in DIR (or of the block DIR) as {labels} value time')
      .argument('<dir>', 'directory of blocks, a block directory, or a store URL')
      .option('--min-time <ms>', 'first time to print', time)
      .option('--max-time <ms>', 'last time to print', time)
      .option('--match <selector>', 'series selector, e.g. up{job="api"}')
      .action(
        async (dir: string, opts: { minTime?: number; maxTime?: number; match?: string }, cmd: Command) => {
          await guarded(async () => {
            const { dumpCommand, parseSelector } = await import('@promstream/storage');
            await dumpCommand(
              dir,
              {
                minTime: opts.minTime,
                maxTime: opts.maxTime,
                match: opts.match === undefined ? undefined : parseSelector(opts.match),
                s3: await s3(cmd),
              },
              write,
            );
          });
        },
      );
    addConfigFlags(command.command('analyze'), 'block')
      .description('Show cardinality and size of a block (the newest in DIR by default)')
      .argument('<dir>', 'directory of blocks, a block directory, or a store URL')
      .argument('[ulid]', 'block to analyze')
      .option('--limit <n>', 'rows per table', parsePositiveInt, 20)
      .action(async (dir: string, ulid: string | undefined, opts: { limit: number }, cmd: Command) => {
        await guarded(async () => {
          const { analyzeCommand } = await import('@promstream/storage');
          await analyzeCommand(dir, ulid, { ...opts, s3: await s3(cmd) }, write);
        });
      });
  },
};
