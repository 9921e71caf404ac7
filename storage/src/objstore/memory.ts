import { StorageError, StorageErrorCode } from '../errors.js';
import {
  type ByteRange,
  checkKey,
  checkRange,
  collect,
  foldPrefixes,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  sliceRange,
} from './object-store.js';

/** Options of a memory store. */
export interface MemoryObjectStoreOptions {
  /** Clock that dates writes (`lastModified`), ms since the epoch. */
  now?: () => number;
}

/** An object store in memory, for tests and the all-in-one. Bodies are copied in and out. */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, Uint8Array>();
  private readonly modified = new Map<string, number>();
  private readonly now: () => number;

  constructor(options: MemoryObjectStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    checkKey(key);
    checkRange(key, range);
    const body = this.objects.get(key);
    if (body === undefined) {
      throw new StorageError(StorageErrorCode.NotFound, 'get object: no such key', { key });
    }
    return sliceRange(body, range).slice();
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    checkKey(key);
    if (options.ifNoneMatch === true && this.objects.has(key)) {
      throw new StorageError(StorageErrorCode.PreconditionFailed, 'put object: key exists', { key });
    }
    this.objects.set(key, body.slice());
    this.modified.set(key, this.now());
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<number> {
    checkKey(key);
    const whole = await collect(body);
    await this.put(key, whole, options);
    return whole.length;
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const all = this.listRecursive(prefix);
    return options.recursive === true ? all : foldPrefixes(prefix, all);
  }

  private async *listRecursive(prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const body = this.objects.get(key);
      if (body !== undefined) yield this.info(key, body);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.objects.delete(key);
    this.modified.delete(key);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    const body = this.objects.get(key);
    return body === undefined ? undefined : this.info(key, body);
  }

  private info(key: string, body: Uint8Array): ObjectInfo {
    return { key, size: body.length, isPrefix: false, lastModified: this.modified.get(key)! };
  }
}
