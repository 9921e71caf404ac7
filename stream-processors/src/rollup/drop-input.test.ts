import { describe, expect, test } from 'vitest';
import type { DecodedBatch, RecordDecoder } from '../block-builder/seams.js';
import { parseRollupConfig } from './config.js';
import { dropInputDecoder } from './drop-input.js';

const batch: DecodedBatch = {
  tenant: 't',
  skippedHistograms: 0,
  series: ['req', 'mem', 'cpu'].map((name) => ({
    labels: [{ name: '__name__', value: name }],
    t: [1],
    v: [1],
  })),
};
const inner: RecordDecoder = { decode: async () => batch };

describe('keep_input: false in the block builder', () => {
  test('leaves out only the series of rules that do not keep their input', async () => {
    const rules = parseRollupConfig(`
- {match: req, interval: 1m, outputs: [total], keep_input: false}
- {match: mem, interval: 1m, outputs: [avg]}
`);
    const out = await dropInputDecoder(inner, rules).decode(Buffer.alloc(0));
    expect(out.series.map((s) => s.labels[0]!.value)).toEqual(['mem', 'cpu']);
  });

  test('is the decoder itself when every rule keeps its input', () => {
    const rules = parseRollupConfig('- {match: req, interval: 1m, outputs: [total]}');
    expect(dropInputDecoder(inner, rules)).toBe(inner);
  });
});
