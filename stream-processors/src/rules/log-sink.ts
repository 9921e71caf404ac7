import type { LogProducer, LogRecord } from '@promstream/log';
import {
  partitionFor,
  type RecordSerde,
  type SampleBatch,
  SampleBatchBuilder,
  seriesKey,
} from '@promstream/schemas';
import { encodeXorChunk } from '@promstream/storage';
import { RulesError } from './errors.js';
import type { RuleSample, RuleSink } from './seams.js';

/**
 * Writes rule output to the derived topic as SampleBatch records, the
 * format of the samples topic (`schemas/docs/log-records.md`): series
 * grouped by the partition their hash places them on, one-sample series in
 * the record's columns, keyed by the hash of each record's first series.
 * A write resolves once the log acknowledged every record (acks=all,
 * idempotent producer), so a group's next evaluation, reading strongly,
 * sees it.
 */

/** Options of the sink. */
export interface LogRuleSinkOptions {
  producer: LogProducer;
  serde: Pick<RecordSerde<SampleBatch>, 'serializeBuilder'>;
  topic: string;
  /** Series per record at most (default 2000). */
  maxSeriesPerRecord?: number;
  now?: () => number;
}

/** A RuleSink on the log. */
export class LogRuleSink implements RuleSink {
  constructor(private readonly options: LogRuleSinkOptions) {}

  async write(tenant: string, samples: readonly RuleSample[]): Promise<void> {
    if (samples.length === 0) return;
    const { producer, serde, topic } = this.options;
    const max = this.options.maxSeriesPerRecord ?? 2000;
    const producedAt = (this.options.now ?? Date.now)();
    try {
      const partitions = await producer.partitions(topic);
      const open = new Map<number, { key: Buffer; builder: SampleBatchBuilder }>();
      const built: { partition: number; key: Buffer; builder: SampleBatchBuilder }[] = [];
      for (const s of samples) {
        const p = partitionFor(s.labels, partitions);
        let rec = open.get(p);
        if (rec === undefined || rec.builder.size >= max) {
          if (rec !== undefined) built.push({ partition: p, ...rec });
          rec = { key: seriesKey(s.labels), builder: new SampleBatchBuilder(tenant, producedAt) };
          open.set(p, rec);
        }
        if (!rec.builder.addSample(s.labels, s.t, s.v)) {
          const chunk = Buffer.from(encodeXorChunk([s.t], [s.v]));
          rec.builder.addChunk({
            labels: [...s.labels],
            minTime: s.t,
            maxTime: s.t,
            encoding: 'XOR',
            chunk,
            histograms: [],
          });
        }
      }
      for (const [partition, rec] of open) built.push({ partition, ...rec });
      const records: LogRecord[] = [];
      for (const b of built)
        records.push({
          key: b.key,
          value: await serde.serializeBuilder(topic, b.builder),
          partition: b.partition,
        });
      await producer.send(topic, records);
    } catch (err) {
      throw new RulesError('IO', `write rule results to ${topic}: ${(err as Error).message}`, { cause: err });
    }
  }
}
