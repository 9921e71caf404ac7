import { partitionFor, type SampleBatch, seriesKey } from '@promstream/schemas';
import { encodeXorChunk } from '@promstream/storage';
import type { SampleBatchCodec } from './sample-sink.js';

/** The serializing half of the schemas package's SampleBatch serde. */
export interface SampleBatchSerializer {
  serialize(topic: string, value: SampleBatch): Promise<Buffer>;
}

/**
 * The production codec: Prometheus XOR chunks from the storage package,
 * FNV-1a series keys and partitions and the Confluent wire-format Avro
 * serde from the schemas package.
 */
export function sampleBatchCodec(serde: SampleBatchSerializer): SampleBatchCodec {
  return {
    encodeChunk: (timestamps, values) => encodeXorChunk(timestamps, values),
    serialize: (topic, batch) => serde.serialize(topic, batch),
    seriesKey,
    partitionFor,
  };
}
