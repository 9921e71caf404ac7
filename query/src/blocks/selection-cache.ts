import type { IndexSeriesEntry, LoadedChunk, Matcher } from '@promstream/storage';

/**
 * What a select read from one block for one matcher set: the series entries
 * of the index and, filled in as queries ask for them, their chunks' bytes
 * (CRC checked when read). Blocks are immutable, so none of it goes stale;
 * the cache only bounds memory. This keeps in memory what Prometheus keeps
 * mapped (index and chunk files), so a repeated select does no I/O, no CRC
 * and no decoding of index entries.
 */
export interface Selection {
  readonly entries: readonly IndexSeriesEntry[];
  /** Per series, per chunk meta of its entry: the chunk once loaded. */
  readonly chunks: (LoadedChunk | undefined)[][];
  /** Estimated bytes held (entries, then loaded chunks). */
  bytes: number;
  /** Whether the selection is still counted in the cache (false once evicted). */
  cached: boolean;
}

/** Fixed cost assumed per object (header, array slots) when estimating sizes. */
const OBJECT_BYTES = 64;

/** The key of a matcher set (order kept: the same query asks in the same order). */
export function matchersKey(matchers: readonly Matcher[]): string {
  let key = '';
  for (const m of matchers) key += `${m.type}\u0000${m.name}\u0000${m.value}\u0001`;
  return key;
}

/** Estimated bytes of a selection's entries (labels are shared symbol strings). */
export function entriesBytes(entries: readonly IndexSeriesEntry[]): number {
  let bytes = OBJECT_BYTES;
  for (const e of entries) bytes += OBJECT_BYTES + e.labels.length * 16 + e.chunks.length * OBJECT_BYTES;
  return bytes;
}

/** Estimated bytes of one loaded chunk. */
export function chunkBytes(c: LoadedChunk): number {
  return OBJECT_BYTES + c.bytes.length;
}

/**
 * A byte-bounded cache of block selections shared by every open block,
 * least recently used first out. Keys name the block and the matcher set.
 */
export class SelectionCache {
  private readonly lru = new Map<string, Selection>();
  private used = 0;

  /** @param maxBytes Budget for all selections together; 0 disables caching. */
  constructor(readonly maxBytes: number) {}

  /** Bytes currently counted. */
  get bytes(): number {
    return this.used;
  }

  /** Number of cached selections. */
  get size(): number {
    return this.lru.size;
  }

  /** The cached selection for a key, marked as recently used. */
  get(key: string): Selection | undefined {
    const s = this.lru.get(key);
    if (s === undefined) return undefined;
    this.lru.delete(key);
    this.lru.set(key, s);
    return s;
  }

  /** Caches a new selection (when it fits the budget at all). */
  add(key: string, s: Selection): void {
    if (s.bytes > this.maxBytes) return;
    const old = this.lru.get(key);
    if (old !== undefined) this.drop(key, old);
    this.lru.set(key, s);
    s.cached = true;
    this.used += s.bytes;
    this.evict();
  }

  /** Records that a selection grew by `delta` bytes (chunks loaded into it). */
  grew(s: Selection, delta: number): void {
    s.bytes += delta;
    if (!s.cached) return;
    this.used += delta;
    this.evict();
  }

  private drop(key: string, s: Selection): void {
    this.lru.delete(key);
    s.cached = false;
    this.used -= s.bytes;
  }

  private evict(): void {
    // Map iteration runs oldest first.
    for (const [key, s] of this.lru) {
      if (this.used <= this.maxBytes) break;
      this.drop(key, s);
    }
  }
}
