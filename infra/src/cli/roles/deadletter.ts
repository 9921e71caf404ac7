import type { Command } from 'commander';
import { addConfigFlags } from '../../config/role-support.js';
import type { Role } from '../role.js';
import { failWith } from './import.js';

/** The filter flags both sub-commands take. */
interface FilterFlags {
  topic: string;
  origin?: string;
  partition?: string;
  from?: string;
  to?: string;
  processor?: string;
  reason?: string;
  json?: boolean;
}

function offset(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    console.error(`--${flag}: expected an offset (a whole number), got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return Number(text);
}

function addFlags(command: Command): Command {
  return addConfigFlags(command, 'deadletter')
    .option('--topic <topic>', 'the dead-letter topic', 'promstream.deadletter.v1')
    .option('--origin <topic>', 'only letters of this original topic')
    .option('--partition <n>', 'only letters of this original partition')
    .option('--from <offset>', 'only letters of original offsets from this one (inclusive)')
    .option('--to <offset>', 'only letters of original offsets below this one')
    .option('--processor <name>', 'only letters of this processor, e.g. block-builder')
    .option('--reason <code>', 'only letters of this reason, e.g. schema_unknown_id');
}

async function toolOptions(opts: FilterFlags, cmd: Command) {
  const { roleConfig } = await import('../../config/index.js');
  const config = roleConfig(cmd, 'deadletter');
  return {
    brokers: config.kafka.brokers,
    topic: opts.topic,
    filter: {
      topic: opts.origin,
      partition: offset('partition', opts.partition),
      fromOffset: offset('from', opts.from),
      toOffset: offset('to', opts.to),
      processor: opts.processor,
      reason: opts.reason,
    },
  };
}

/** `promstream deadletter list|replay`: what processors gave up on, and re-driving it after a fix. */
export const deadletterRole: Role = {
  name: 'deadletter',
  summary: 'List the records processors dead-lettered, or re-drive them to their topic after a fix',
  configure(command: Command): void {
    addFlags(
      command
        .command('list')
        .description(
          'print every dead letter with its headers (original topic, partition, offset, reason, ...)',
        ),
    )
      .option('--json', 'one JSON object per letter')
      .action(async (opts: FilterFlags, cmd: Command) => {
        const { listDeadLetters } = await import('@promstream/stream-processors');
        try {
          const letters = await listDeadLetters(await toolOptions(opts, cmd));
          for (const l of letters) {
            const i = l.info;
            if (opts.json === true) {
              console.log(
                JSON.stringify({
                  dlq: { topic: opts.topic, partition: l.dlqPartition, offset: l.dlqOffset },
                  ...i,
                  headers: Object.fromEntries(
                    Object.entries(l.headers).map(([k, v]) => [
                      k,
                      Array.isArray(v) ? v.map(String) : String(v),
                    ]),
                  ),
                  key: l.key?.toString('hex') ?? null,
                  valueBytes: l.value?.length ?? null,
                }),
              );
              continue;
            }
            console.log(
              `${opts.topic} ${l.dlqPartition}@${l.dlqOffset}: ${i.topic} ${i.partition}@${i.offset}`,
            );
            console.log(`  processor ${i.processor}, reason ${i.reason}, attempts ${i.attempts}`);
            console.log(
              `  record time ${new Date(i.timestamp).toISOString()}, dead-lettered ${new Date(i.deadLetteredAt).toISOString()}`,
            );
            if (i.tenant !== undefined) console.log(`  tenant ${JSON.stringify(i.tenant)}`);
            if (i.samples !== undefined) console.log(`  samples that could not be placed: ${i.samples}`);
            console.log(`  message ${i.message}`);
            for (const [k, v] of Object.entries(l.headers)) console.log(`  header ${k}: ${String(v)}`);
            console.log(
              `  key ${l.key?.toString('hex') ?? 'null'}, value ${l.value?.length ?? 'null'} bytes`,
            );
          }
          if (opts.json !== true) console.log(`${letters.length} dead letters`);
        } catch (err) {
          failWith(err);
        }
      });
    addFlags(
      command
        .command('replay')
        .description(
          're-drive the original bytes of matching letters to their original topic and partition, marked as backfill',
        ),
    ).action(async (opts: FilterFlags, cmd: Command) => {
      const { replayDeadLetters } = await import('@promstream/stream-processors');
      try {
        const r = await replayDeadLetters(await toolOptions(opts, cmd));
        console.log(
          `re-drove ${r.replayed} records (${r.duplicates} letters repeated an original, ${r.skipped} did not match)`,
        );
      } catch (err) {
        failWith(err);
      }
    });
  },
};
