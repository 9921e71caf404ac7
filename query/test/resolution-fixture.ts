import {
  type BlockMeta,
  downsampleBlock,
  type Labels,
  type ObjectStore,
  RES_1H,
  RES_5M,
  SeriesChunker,
  writeBlock,
} from '@promstream/storage';

/** One hour, milliseconds. */
export const H = 3600 * 1000;
/** Start of the fixture's data. */
export const T0 = 1_700_006_400_000;

/** A pseudo-random fraction from a time, so data is a pure function of time. */
function noise(x: number): number {
  return (Math.imul(Math.floor(x / 60_000) | 0, 2654435761) >>> 0) / 2 ** 32;
}

/**
 * Deterministic series sampled every minute (the raw step Thanos'
 * downsampling assumes) in [from, to): counters that reset every 31h or 17h,
 * and gauges, one of them with gaps.
 */
export function fixture(from: number, to: number): { labels: Labels; t: number[]; v: number[] }[] {
  const out = [];
  for (let s = 0; s < 4; s++) {
    const t: number[] = [];
    const v: number[] = [];
    const counter = s % 2 === 0;
    for (let x = from; x < to; x += 60_000) {
      if (s === 3 && x % (9 * H) < 2 * H) continue;
      const k = Math.floor(((x - T0) % ((s === 0 ? 31 : 17) * H)) / 60_000);
      t.push(x);
      v.push(counter ? k * 7 + (k % 7) + noise(x) : Math.sin(x / 3.6e6) * 100 + noise(x) * 10);
    }
    out.push({
      labels: [
        { name: '__name__', value: counter ? 'requests_total' : 'temperature' },
        { name: 'job', value: s < 2 ? 'api' : 'db' },
        { name: 'series', value: String(s) },
      ],
      t,
      v,
    });
  }
  return out;
}

/** Writes the fixture's [from, to) as one raw block of the tenant's directory `dir`. */
export async function rawBlock(
  store: ObjectStore,
  dir: string,
  from: number,
  to: number,
): Promise<BlockMeta> {
  const series = fixture(from, to).map((s) => {
    const ch = new SeriesChunker(2 * H);
    for (let i = 0; i < s.t.length; i++) ch.append(s.t[i]!, s.v[i]!);
    ch.flush();
    return { labels: s.labels, chunks: ch.chunks };
  });
  return writeBlock(store, dir, series, {
    minTime: from,
    maxTime: to,
    thanos: { labels: { tenant: dir }, downsample: { resolution: 0 }, source: 'promstream' },
  });
}

/** A raw block and its 5m and 1h downsamples, as the compactor writes them. */
export async function downsampledBucket(
  store: ObjectStore,
  dir: string,
  from: number,
  to: number,
): Promise<{ raw: BlockMeta; m5: BlockMeta; h1: BlockMeta }> {
  const raw = await rawBlock(store, dir, from, to);
  const m5 = (await downsampleBlock(store, dir, raw, RES_5M)).meta;
  const h1 = (await downsampleBlock(store, dir, m5, RES_1H)).meta;
  return { raw, m5, h1 };
}
