import { StorageError, StorageErrorCode } from '../errors.js';
import { checkTenantId } from '../tenant.js';
import {
  type ByteRange,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  putStream,
} from './object-store.js';

/**
 * A view of a store under a key prefix, as Thanos' prefixed bucket: a tenant
 * sees `<tenant>/...` as its whole bucket. Errors name the key inside the view.
 */
export class PrefixedObjectStore implements ObjectStore {
  readonly prefix: string;

  constructor(
    private readonly inner: ObjectStore,
    prefix: string,
  ) {
    const p = prefix.replace(/^\/+|\/+$/g, '');
    if (p.split('/').some((s) => s === '.' || s === '..')) {
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        `prefix ${JSON.stringify(prefix)} is not valid`,
      );
    }
    this.prefix = p === '' ? '' : `${p}/`;
  }

  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.get(this.prefix + key, range);
  }

  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    return this.inner.put(this.prefix + key, body, options);
  }

  putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<number> {
    return putStream(this.inner, this.prefix + key, body, options);
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    const n = this.prefix.length;
    for await (const o of this.inner.list(this.prefix + prefix, options)) {
      yield { ...o, key: o.key.slice(n) };
    }
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(this.prefix + key);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const o = await this.inner.head(this.prefix + key);
    return o === undefined ? undefined : { ...o, key };
  }
}

/** The store of one tenant: `<tenant>/` under the bucket; throws `invalid_tenant` for an ID the tenant rule refuses. */
export function tenantStore(store: ObjectStore, tenant: string): ObjectStore {
  return new PrefixedObjectStore(store, checkTenantId(tenant));
}
