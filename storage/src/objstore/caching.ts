import { createHash } from 'node:crypto';
import { isStorageError, StorageErrorCode } from '../errors.js';
import {
  type ByteRange,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  putStream,
} from './object-store.js';

/** Options of the range cache. */
export interface CachingOptions {
  /** Where cached bytes live: a local store, typically an FsObjectStore on local disk. */
  cache: ObjectStore;
  /** Bytes to keep before the least recently used entries go. */
  maxBytes: number;
  /** Only objects whose key matches are cached (blocks are immutable; marks are not). Default: index and chunks. */
  cacheable?: (key: string) => boolean;
}

const defaultCacheable = (key: string): boolean => /(^|\/)(index|chunks\/\d{6})$/.test(key);

/**
 * Caches whole gets and range gets of immutable objects in a local store, as
 * Thanos' caching bucket does for index and chunk ranges. Entries are keyed
 * by object and range; the least recently used go first when over budget. A
 * put or delete through this store drops the object's entries.
 */
export class CachingObjectStore implements ObjectStore {
  private readonly lru = new Map<string, { size: number; object: string }>();
  private used = 0;
  hits = 0;
  misses = 0;
  private readonly cacheable: (key: string) => boolean;

  constructor(
    private readonly inner: ObjectStore,
    private readonly options: CachingOptions,
  ) {
    this.cacheable = options.cacheable ?? defaultCacheable;
  }

  private entryKey(key: string, range: ByteRange | undefined): string {
    const h = createHash('sha256').update(key).digest('hex').slice(0, 32);
    return `${h.slice(0, 2)}/${h}/${range === undefined ? 'whole' : `${range.offset}-${range.length}`}`;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (!this.cacheable(key)) return this.inner.get(key, range);
    const ek = this.entryKey(key, range);
    const known = this.lru.get(ek);
    if (known !== undefined) {
      try {
        const b = await this.options.cache.get(ek);
        this.lru.delete(ek);
        this.lru.set(ek, known);
        this.hits++;
        return b;
      } catch (e) {
        if (!isStorageError(e, StorageErrorCode.NotFound)) throw e;
        this.forget(ek);
      }
    }
    this.misses++;
    const b = await this.inner.get(key, range);
    if (b.length <= this.options.maxBytes) {
      // A failing cache write only costs the next read a miss.
      await this.options.cache.put(ek, b).then(
        () => this.remember(ek, key, b.length),
        () => {},
      );
    }
    return b;
  }

  private remember(ek: string, object: string, size: number): void {
    this.forget(ek);
    this.lru.set(ek, { size, object });
    this.used += size;
    // Map iteration runs oldest first; deleting the current entry is safe.
    for (const k of this.lru.keys()) {
      if (this.used <= this.options.maxBytes) break;
      this.forget(k);
      void this.options.cache.delete(k).catch(() => {});
    }
  }

  private forget(ek: string): void {
    const v = this.lru.get(ek);
    if (v === undefined) return;
    this.lru.delete(ek);
    this.used -= v.size;
  }

  /** Bytes the cache holds. */
  get cachedBytes(): number {
    return this.used;
  }

  private async invalidate(key: string): Promise<void> {
    for (const [k, v] of [...this.lru]) {
      if (v.object !== key) continue;
      this.forget(k);
      await this.options.cache.delete(k).catch(() => {});
    }
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    await this.inner.put(key, body, options);
    await this.invalidate(key);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<number> {
    const n = await putStream(this.inner, key, body, options);
    await this.invalidate(key);
    return n;
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    await this.invalidate(key);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
}
