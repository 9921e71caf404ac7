import type { PartitionLog } from '../../src/log/partition-log.js';
import { checkBatch } from '../../src/log/record-batch.js';

/** Reads every batch of a partition log from `from` on: [baseOffset, recordCount] per batch. */
export async function readBack(log: PartitionLog, from = 0): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  let offset = from;
  for (;;) {
    const buf = await log.read(offset, 1 << 20);
    if (buf === null) return out;
    // A read below the log's end always holds a batch; an empty one would repeat forever.
    if (buf.length === 0) throw new Error(`read at offset ${offset} below the end returned no bytes`);
    for (let at = 0; at < buf.length; ) {
      const h = checkBatch(buf, at);
      if (typeof h === 'string') throw new Error(`read back a bad batch: ${h}`);
      out.push([h.baseOffset, h.recordCount]);
      offset = h.baseOffset + h.lastOffsetDelta + 1;
      at += h.size;
    }
  }
}
