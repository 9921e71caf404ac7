import { Counter, Histogram, type Registry } from 'prom-client';
import { isStorageError, StorageErrorCode } from '../errors.js';
import {
  type ByteRange,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  putStream,
} from './object-store.js';

/** The metrics an instrumented store records, shared by all stores on one registry. */
export class ObjectStoreMetrics {
  readonly operations: Counter<'bucket' | 'operation'>;
  readonly failures: Counter<'bucket' | 'operation' | 'code'>;
  readonly duration: Histogram<'bucket' | 'operation'>;
  readonly bytes: Counter<'bucket' | 'operation'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.operations = new Counter({
      name: 'promstream_objstore_operations_total',
      help: 'Object store operations started.',
      labelNames: ['bucket', 'operation'],
      registers,
    });
    this.failures = new Counter({
      name: 'promstream_objstore_operation_failures_total',
      help: 'Object store operations that failed, by error code (not_found on get counts too).',
      labelNames: ['bucket', 'operation', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'promstream_objstore_operation_duration_seconds',
      help: 'Time object store operations take.',
      labelNames: ['bucket', 'operation'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.bytes = new Counter({
      name: 'promstream_objstore_bytes_total',
      help: 'Bytes read (get) and written (put).',
      labelNames: ['bucket', 'operation'],
      registers,
    });
  }
}

/** Wraps a store to count operations, failures, bytes and time, as Thanos' metric bucket. */
export class InstrumentedObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly metrics: ObjectStoreMetrics,
    private readonly bucket: string,
  ) {}

  private async track<T>(op: string, f: () => Promise<T>): Promise<T> {
    const labels = { bucket: this.bucket, operation: op };
    this.metrics.operations.inc(labels);
    const end = this.metrics.duration.startTimer(labels);
    try {
      return await f();
    } catch (e) {
      const code = isStorageError(e) ? e.code : StorageErrorCode.Io;
      this.metrics.failures.inc({ ...labels, code });
      throw e;
    } finally {
      end();
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const op = range === undefined ? 'get' : 'get_range';
    const b = await this.track(op, () => this.inner.get(key, range));
    this.metrics.bytes.inc({ bucket: this.bucket, operation: op }, b.length);
    return b;
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    await this.track('put', () => this.inner.put(key, body, options));
    this.metrics.bytes.inc({ bucket: this.bucket, operation: 'put' }, body.length);
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<number> {
    const n = await this.track('put', () => putStream(this.inner, key, body, options));
    this.metrics.bytes.inc({ bucket: this.bucket, operation: 'put' }, n);
    return n;
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    const labels = { bucket: this.bucket, operation: 'list' };
    this.metrics.operations.inc(labels);
    const end = this.metrics.duration.startTimer(labels);
    try {
      yield* this.inner.list(prefix, options);
    } catch (e) {
      this.metrics.failures.inc({ ...labels, code: isStorageError(e) ? e.code : StorageErrorCode.Io });
      throw e;
    } finally {
      end();
    }
  }

  delete(key: string): Promise<void> {
    return this.track('delete', () => this.inner.delete(key));
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.track('head', () => this.inner.head(key));
  }
}
