import {
  partitionFor,
  type RecordSerde,
  type SampleBatch,
  SampleBatchBuilder,
  seriesKey,
} from '@promstream/schemas';
import { encodeXorChunk } from '@promstream/storage';
import { requestPlacer } from './partitioner.js';
import type { SampleBatchCodec } from './sample-sink.js';

/** The serializing half of the schemas package's SampleBatch serde. */
export type SampleBatchSerializer = Pick<RecordSerde<SampleBatch>, 'serializeBuilder'>;

/**
 * The production codec: Prometheus XOR chunks from the storage package,
 * FNV-1a series keys and partitions, and SampleBatch records built by
 * column and written in the Confluent wire format by the schemas package.
 */
export function sampleBatchCodec(serde: SampleBatchSerializer): SampleBatchCodec {
  return {
    encodeChunk: (timestamps, values) => encodeXorChunk(timestamps, values),
    newRecord: (tenant, producedAt) => new SampleBatchBuilder(tenant, producedAt),
    serialize: (topic, record) => {
      if (!(record instanceof SampleBatchBuilder)) {
        throw new TypeError('serialize a SampleBatch: the record was not made by this codec');
      }
      return serde.serializeBuilder(topic, record);
    },
    seriesKey,
    partitionFor,
    requestPlacer: (partitions) => requestPlacer(partitions, partitionFor),
  };
}
