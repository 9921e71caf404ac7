import type { LogProducer, LogRecord } from '@promstream/log';
import { partitionFor, type RecordSerde, type SampleBatch, seriesKey } from '@promstream/schemas';
import { encodeXorChunk, type Label } from '@promstream/storage';
import { type CountKey, countLabels, type DerivedCounterSink } from './derived.js';

/**
 * Writes `promstream_events_total` to the derived topic as SampleBatch
 * records: one record per tenant, one sample per series the cut touched
 * (its new total, at the cut's newest event time), keyed and placed by
 * series key as every SampleBatch writer does, so a series stays in order
 * on one partition.
 */
export class LogDerivedCounterSink implements DerivedCounterSink {
  constructor(
    private readonly producer: LogProducer,
    private readonly serde: Pick<RecordSerde<SampleBatch>, 'serialize'>,
    private readonly topic: string,
  ) {}

  async write(totals: ReadonlyMap<CountKey, number>, time: number): Promise<void> {
    const byTenant = new Map<string, { labels: Label[]; value: number }[]>();
    for (const [key, value] of totals) {
      const labels = countLabels(key);
      const tenant = labels.find((l) => l.name === 'tenant')?.value ?? '';
      const list = byTenant.get(tenant) ?? [];
      list.push({ labels, value });
      byTenant.set(tenant, list);
    }
    const partitions = await this.producer.partitions(this.topic);
    const records: LogRecord[] = [];
    for (const [tenant, list] of byTenant) {
      for (const { labels, value } of list) {
        const batch: SampleBatch = {
          tenant,
          producedAt: time,
          series: [
            {
              labels,
              minTime: time,
              maxTime: time,
              encoding: 'XOR',
              chunk: Buffer.from(encodeXorChunk([time], [value])),
              histograms: [],
            },
          ],
        };
        records.push({
          key: seriesKey(labels),
          partition: partitionFor(labels, partitions),
          value: await this.serde.serialize(this.topic, batch),
        });
      }
    }
    await this.producer.send(this.topic, records);
  }
}
