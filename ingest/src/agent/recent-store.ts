import type { Label } from '@promstream/storage';
import type { WriteSeries } from '../remote-write/types.js';

interface Ring {
  labels: Label[];
  t: number[];
  v: number[];
}

/**
 * The agent's recent samples in memory, for its local query API: each series
 * keeps what arrived within `retentionMs`, so a node can be inspected even
 * while the log is unreachable.
 */
export class RecentStore {
  private readonly series = new Map<string, Ring>();
  private readonly retentionMs: number;

  constructor(retentionMs: number) {
    this.retentionMs = retentionMs;
  }

  add(batch: readonly WriteSeries[], now: number): void {
    const cutoff = now - this.retentionMs;
    for (const s of batch) {
      const key = s.labels.map((l) => `${l.name}\xff${l.value}`).join('\xfe');
      let ring = this.series.get(key);
      if (ring === undefined) {
        ring = { labels: s.labels, t: [], v: [] };
        this.series.set(key, ring);
      }
      for (let i = 0; i < s.timestamps.length; i++) {
        const t = s.timestamps[i]!;
        if (ring.t.length > 0 && t <= ring.t[ring.t.length - 1]!) continue;
        ring.t.push(t);
        ring.v.push(s.values[i]!);
      }
      let drop = 0;
      while (drop < ring.t.length && ring.t[drop]! < cutoff) drop++;
      if (drop > 0) {
        ring.t.splice(0, drop);
        ring.v.splice(0, drop);
      }
    }
  }

  /** Series whose labels equal every given pair, with their samples at or after `since`. */
  select(equal: Record<string, string>, since: number): { labels: Label[]; samples: [number, number][] }[] {
    const out = [];
    const wanted = Object.entries(equal);
    for (const ring of this.series.values()) {
      if (!wanted.every(([n, v]) => (ring.labels.find((l) => l.name === n)?.value ?? '') === v)) continue;
      const samples: [number, number][] = [];
      for (let i = 0; i < ring.t.length; i++) if (ring.t[i]! >= since) samples.push([ring.t[i]!, ring.v[i]!]);
      if (samples.length > 0) out.push({ labels: ring.labels, samples });
    }
    return out;
  }
}
