import { fileURLToPath } from 'node:url';
import { StorageError, StorageErrorCode } from '../errors.js';
import { FsObjectStore } from './fs.js';
import { MemoryObjectStore } from './memory.js';
import type { ObjectStore } from './object-store.js';
import { PrefixedObjectStore } from './prefixed.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3.js';

/** Options of the stores a URL opens that a URL cannot carry. */
export interface StoreUrlOptions {
  /** Passed to an S3 store (see S3ObjectStoreOptions.onPartUploaded). */
  onPartUploaded?: S3ObjectStoreOptions['onPartUploaded'];
}

/**
 * How to reach S3 for `s3://` URLs, where the URL does not say. The caller
 * passes these from its configuration; the store never reads the environment.
 * Without credentials the AWS SDK's default provider chain finds them.
 */
export interface S3Settings {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (default true). */
  forcePathStyle?: boolean;
}

/**
 * Opens a store from a URL:
 * - `file:///var/lib/promstream/blocks` (or a plain path): a directory;
 * - `mem://`: a new in-memory store;
 * - `s3://bucket/prefix?endpoint=http://host:port&region=us-east-1&path-style=true`:
 *   an S3 bucket; what the query leaves out comes from `s3` (endpoint, region,
 *   path style, credentials), the region defaulting to us-east-1;
 *   `multipart-threshold` and `part-size` (bytes) tune multipart uploads.
 */
export function objectStoreFromUrl(
  url: string,
  s3: S3Settings = {},
  options: StoreUrlOptions = {},
): ObjectStore {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return new FsObjectStore(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new StorageError(StorageErrorCode.InvalidArgument, `object store URL ${url} does not parse`, {
      cause: e,
    });
  }
  switch (u.protocol) {
    case 'file:':
      return new FsObjectStore(fileURLToPath(u));
    case 'mem:':
      return new MemoryObjectStore();
    case 's3:': {
      if (u.hostname === '') {
        throw new StorageError(StorageErrorCode.InvalidArgument, `object store URL ${url} names no bucket`);
      }
      const q = u.searchParams;
      const store = new S3ObjectStore({
        bucket: u.hostname,
        endpoint: q.get('endpoint') ?? nonEmpty(s3.endpoint),
        region: q.get('region') ?? nonEmpty(s3.region) ?? 'us-east-1',
        forcePathStyle: q.has('path-style') ? q.get('path-style') !== 'false' : (s3.forcePathStyle ?? true),
        accessKeyId: nonEmpty(s3.accessKeyId),
        secretAccessKey: nonEmpty(s3.secretAccessKey),
        multipartThreshold: byteCount(url, q, 'multipart-threshold'),
        partSize: byteCount(url, q, 'part-size'),
        onPartUploaded: options.onPartUploaded,
      });
      const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
      return prefix === '' ? store : new PrefixedObjectStore(store, prefix);
    }
    default:
      throw new StorageError(
        StorageErrorCode.InvalidArgument,
        `object store URL scheme ${u.protocol} is not one of file:, mem:, s3:`,
      );
  }
}

/** A positive whole number of bytes from a query parameter, or undefined when it is absent. */
function byteCount(url: string, q: URLSearchParams, name: string): number | undefined {
  const text = q.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new StorageError(
      StorageErrorCode.InvalidArgument,
      `object store URL ${url}: ${name} is not a positive number of bytes`,
    );
  return n;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
