import { STALE_NAN } from '@promstream/storage';
import type { Anomaly, Event, SampleBatch } from '../src/types.js';

/** Values shaped by the TypeScript types; the schema files must accept them and give them back. */
export const sampleBatch: SampleBatch = {
  tenant: 'team-a',
  producedAt: 1_764_000_000_123,
  series: [
    {
      labels: [
        { name: '__name__', value: 'node_load1' },
        { name: 'instance', value: 'h1:9100' },
      ],
      minTime: 1_764_000_000_000,
      maxTime: 1_764_000_015_000,
      encoding: 'XOR',
      chunk: Buffer.from([0, 2, 1, 2, 3, 4]),
      histograms: [],
    },
    {
      labels: [{ name: '__name__', value: 'rpc_seconds' }],
      minTime: 1_764_000_000_000,
      maxTime: 1_764_000_000_000,
      encoding: 'FLOAT_HISTOGRAM',
      chunk: Buffer.alloc(0),
      histograms: [
        {
          timestamp: 1_764_000_000_000,
          integer: false,
          histogram: {
            counterResetHint: 0,
            schema: 3,
            zeroThreshold: 1e-128,
            zeroCount: 0.5,
            count: 7.5,
            sum: STALE_NAN,
            positiveSpans: [{ offset: -2, length: 2 }],
            negativeSpans: [],
            positiveBuckets: [3, 4],
            negativeBuckets: [],
            customValues: [],
          },
        },
      ],
    },
  ],
};

export const event: Event = {
  time: 1_764_000_000_456,
  host: 'h1',
  source: 'kernel',
  kind: 'oom_kill',
  severity: 'error',
  message: 'Out of memory: Killed process 4242 (java)',
  attributes: { pid: '4242', comm: 'java' },
};

export const anomaly: Anomaly = {
  tenant: 'team-a',
  labels: [{ name: '__name__', value: 'node_load1' }],
  time: 1_764_000_000_000,
  value: 42,
  expected: 1.5,
  score: 9.25,
  model: 'holt-winters',
};
