import type { CutBlock } from '../src/block-builder/partition-head.js';
import type {
  BlockSink,
  DecodedBatch,
  PartitionState,
  PartitionStateStore,
  RecordDecoder,
} from '../src/block-builder/seams.js';

// Test doubles for the builder's seams: records as JSON, blocks and states in
// memory. The codecs have their own suites; these check the loops.

export const jsonDecoder: RecordDecoder = {
  async decode(value) {
    const parsed = JSON.parse(value.toString()) as DecodedBatch;
    return { ...parsed, skippedHistograms: 0 };
  },
};

export class MemorySink implements BlockSink {
  readonly blocks = new Map<string, { block: CutBlock; json: string }>();
  writes = 0;
  async write(ulid: string, block: CutBlock) {
    this.writes++;
    const json = JSON.stringify({
      ...block,
      series: block.series.map((s) => ({ labels: s.labels, t: Array.from(s.t), v: Array.from(s.v) })),
    });
    const before = this.blocks.get(`${block.tenant}/${ulid}`);
    if (before !== undefined && before.json !== json)
      throw new Error(`block ${ulid} rewritten with other bytes`);
    this.blocks.set(`${block.tenant}/${ulid}`, { block, json });
  }
  samples(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const { block } of this.blocks.values()) {
      for (const s of block.series) {
        const key = `${block.tenant}|${s.labels.map((l) => `${l.name}=${l.value}`).join(',')}`;
        const list = out.get(key) ?? [];
        list.push(...Array.from(s.t));
        out.set(key, list);
      }
    }
    for (const list of out.values()) list.sort((a, b) => a - b);
    return out;
  }
}

export class MemoryState implements PartitionStateStore {
  readonly states = new Map<string, PartitionState>();
  async load(topic: string, partition: number) {
    return this.states.get(`${topic}/${partition}`);
  }
  async save(topic: string, partition: number, state: PartitionState) {
    this.states.set(`${topic}/${partition}`, { ...state });
  }
}

/**
 * Block contents without their ids: tenant, range and the samples of each
 * series, sorted, so two runs over logs that differ only in offsets compare.
 */
export function blockContents(sink: MemorySink): string[] {
  const out: string[] = [];
  for (const { block } of sink.blocks.values()) {
    const series = block.series.map(
      (s) =>
        `${s.labels.map((l) => `${l.name}=${l.value}`).join(',')}:${Array.from(s.t).join(',')}/${Array.from(s.v).join(',')}`,
    );
    out.push(`${block.tenant}|${block.rangeStart}-${block.rangeEnd}|${series.join(';')}`);
  }
  return out.sort();
}
