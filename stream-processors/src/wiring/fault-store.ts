import {
  type ByteRange,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  putStream,
} from '@promstream/storage';
import type { FaultPoints } from '../block-builder/seams.js';

/**
 * Wraps the store blocks are written to and reports the `mid-block` fault
 * point after each block file is stored, except meta.json: the block's
 * writer puts meta.json last, so at that moment the block is partly there.
 * Block ids are deterministic, so a rebuilt block rewrites a complete one;
 * such a rewrite is not partly there and is not reported.
 */
export class FaultReportingStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly faults: FaultPoints,
  ) {}

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.get(key, range);
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    await this.inner.put(key, body, options);
    await this.stored(key);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<number> {
    const n = await putStream(this.inner, key, body, options);
    await this.stored(key);
    return n;
  }

  private async stored(key: string): Promise<void> {
    if (key.endsWith('/meta.json')) return;
    const dir = key.slice(0, key.indexOf('/', key.indexOf('/') + 1));
    if ((await this.inner.head(`${dir}/meta.json`)) === undefined) this.faults.reached('mid-block', { key });
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
}
