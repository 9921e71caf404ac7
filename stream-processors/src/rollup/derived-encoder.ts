import type { SampleBatch } from '@promstream/schemas';
import { encodeXorChunk } from '@promstream/storage';
import type { DerivedEncoder, DerivedSample } from './seams.js';

/**
 * The derived topic's encoder: a SampleBatch with one XOR chunk per output
 * series (one sample each), `producedAt` the window's end so a record
 * written again after a restart has the same bytes.
 */
export function sampleBatchEncoder(serialize: (batch: SampleBatch) => Promise<Buffer>): DerivedEncoder {
  return {
    encode(tenant: string, producedAt: number, samples: readonly DerivedSample[]): Promise<Buffer> {
      return serialize({
        tenant,
        producedAt,
        series: samples.map((s) => ({
          labels: [...s.labels],
          minTime: s.t,
          maxTime: s.t,
          encoding: 'XOR',
          chunk: Buffer.from(encodeXorChunk([s.t], [s.v])),
          histograms: [],
        })),
      });
    },
  };
}
