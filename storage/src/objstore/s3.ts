import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { StorageError, StorageErrorCode } from '../errors.js';
import {
  type ByteRange,
  checkKey,
  checkRange,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './object-store.js';
import { SourceFailure } from './source-failure.js';

/** How to reach an S3 bucket. */
export interface S3ObjectStoreOptions {
  bucket: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (http://host/bucket/key), needed by most self-hosted servers. */
  forcePathStyle?: boolean;
  /** Bodies at or above this size go up as a multipart upload. Default 16 MiB. */
  multipartThreshold?: number;
  /** Part size of multipart uploads (at least 5 MiB on AWS). Default 8 MiB. */
  partSize?: number;
  /**
   * Called after each part of a multipart upload is stored and before the
   * upload is completed, so fault-injection tests can stop a process in the
   * middle of an upload.
   */
  onPartUploaded?: (key: string, partNumber: number) => void;
  /** Attempts per request, with exponential backoff on 5xx, throttling and timeouts. Default 5. */
  maxAttempts?: number;
  /** Milliseconds to wait for a connection; a timeout is retried. Default 5000. */
  connectionTimeoutMs?: number;
  /** Milliseconds a request may take before it is abandoned and retried. Default 30000. */
  requestTimeoutMs?: number;
  /** Keys per listing page. Default 1000. */
  pageSize?: number;
  /** A client to use instead of building one (for tests and shared connection pools). */
  client?: S3Client;
}

interface AwsLikeError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}

function statusOf(e: unknown): number | undefined {
  return (e as AwsLikeError | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(e: unknown): string {
  const a = e as AwsLikeError | undefined;
  return a?.name ?? a?.Code ?? '';
}

function mapError(action: string, key: string, e: unknown): StorageError {
  const status = statusOf(e);
  const name = nameOf(e);
  const detail = e instanceof Error ? e.message : String(e);
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
    return new StorageError(StorageErrorCode.NotFound, `${action}: no such key`, { key, cause: e });
  }
  if (status === 412 || name === 'PreconditionFailed') {
    return new StorageError(StorageErrorCode.PreconditionFailed, `${action}: key exists`, { key, cause: e });
  }
  if (status === 403 || status === 400) {
    return new StorageError(StorageErrorCode.InvalidArgument, `${action}: ${name} ${detail}`, {
      key,
      cause: e,
    });
  }
  return new StorageError(StorageErrorCode.Io, `${action}: ${name} ${detail}`, { key, cause: e });
}

/**
 * An object store in an S3 bucket through @aws-sdk/client-s3. The SDK's
 * standard retry strategy retries 5xx, throttling and network errors with
 * exponential backoff and jitter; conditional creates use If-None-Match: *.
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly pageSize: number;
  private readonly onPartUploaded: ((key: string, partNumber: number) => void) | undefined;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.multipartThreshold = options.multipartThreshold ?? 16 * 1024 * 1024;
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    this.pageSize = options.pageSize ?? 1000;
    this.onPartUploaded = options.onPartUploaded;
    this.client =
      options.client ??
      new S3Client({
        endpoint: options.endpoint,
        region: options.region ?? 'us-east-1',
        forcePathStyle: options.forcePathStyle ?? true,
        maxAttempts: options.maxAttempts ?? 5,
        requestHandler: {
          connectionTimeout: options.connectionTimeoutMs ?? 5000,
          requestTimeout: options.requestTimeoutMs ?? 30_000,
          // Without this the handler only logs a warning when the timeout passes.
          throwOnRequestTimeout: true,
        },
        credentials:
          options.accessKeyId !== undefined && options.accessKeyId !== ''
            ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey ?? '' }
            : undefined,
        // Checksums only when the operation requires them: self-hosted servers
        // differ in support for the newer flexible checksums.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    checkKey(key);
    checkRange(key, range);
    if (range !== undefined && range.length === 0) {
      if ((await this.head(key)) === undefined) {
        throw new StorageError(StorageErrorCode.NotFound, 'get object: no such key', { key });
      }
      return new Uint8Array(0);
    }
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range === undefined ? undefined : `bytes=${range.offset}-${range.offset + range.length - 1}`,
        }),
      );
      if (out.Body === undefined) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (e) {
      // 416: the range starts past the end; the contract returns no bytes.
      if (statusOf(e) === 416 || nameOf(e) === 'InvalidRange') {
        if ((await this.head(key)) === undefined) {
          throw new StorageError(StorageErrorCode.NotFound, 'get object: no such key', { key, cause: e });
        }
        return new Uint8Array(0);
      }
      throw mapError('get object', key, e);
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    checkKey(key);
    const ifNoneMatch = options.ifNoneMatch === true ? '*' : undefined;
    if (body.length >= this.multipartThreshold) {
      const whole = new ByteQueue();
      whole.push(body);
      await this.putMultipart(key, whole, undefined, ifNoneMatch);
      return;
    }
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: ifNoneMatch }),
      );
    } catch (e) {
      throw mapError('put object', key, e);
    }
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<number> {
    checkKey(key);
    const chunks = body[Symbol.asyncIterator]();
    const pending = new ByteQueue();
    // A body under the threshold goes up as one PUT, as put() sends it.
    while (pending.bytes < this.multipartThreshold) {
      const next = await chunks.next();
      if (next.done === true) {
        const n = pending.bytes;
        await this.put(key, pending.take(n), options);
        return n;
      }
      pending.push(next.value);
    }
    return this.putMultipart(key, pending, chunks, options.ifNoneMatch === true ? '*' : undefined);
  }

  /**
   * Uploads what `pending` holds and what `rest` yields as parts of
   * `partSize` bytes, holding at most one part and one chunk, and completes
   * the upload; any failure aborts it, so no part stays behind.
   */
  private async putMultipart(
    key: string,
    pending: ByteQueue,
    rest: AsyncIterator<Uint8Array> | undefined,
    ifNoneMatch: string | undefined,
  ): Promise<number> {
    let uploadId: string | undefined;
    let total = 0;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }),
      );
      uploadId = created.UploadId;
      const parts: { ETag: string | undefined; PartNumber: number }[] = [];
      for (let ended = rest === undefined; ; ) {
        while (!ended && pending.bytes < this.partSize) {
          const next = await rest!.next().catch((e: unknown) => {
            throw new SourceFailure(e);
          });
          if (next.done === true) ended = true;
          else pending.push(next.value);
        }
        if (pending.bytes === 0) break;
        const bytes = pending.take(Math.min(this.partSize, pending.bytes));
        const n = parts.length + 1;
        const part = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: n,
            Body: bytes,
          }),
        );
        total += bytes.length;
        parts.push({ ETag: part.ETag, PartNumber: n });
        this.onPartUploaded?.(key, n);
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: ifNoneMatch,
        }),
      );
      return total;
    } catch (e) {
      if (uploadId !== undefined) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => {});
      }
      // A failing source is the caller's error, not the store's.
      if (e instanceof SourceFailure) throw e.source;
      throw mapError('put object (multipart)', key, e);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: options.recursive === true ? undefined : '/',
            ContinuationToken: token,
            MaxKeys: this.pageSize,
          }),
        );
      } catch (e) {
        throw mapError('list objects', prefix, e);
      }
      // One page holds objects and common prefixes in two lists; merge them in key order.
      const entries: ObjectInfo[] = [];
      for (const c of page.Contents ?? []) {
        if (c.Key === undefined) continue;
        const info: { key: string; size: number; isPrefix: false; lastModified?: number } = {
          key: c.Key,
          size: c.Size ?? 0,
          isPrefix: false,
        };
        if (c.LastModified !== undefined) info.lastModified = c.LastModified.getTime();
        entries.push(info);
      }
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix !== undefined) entries.push({ key: p.Prefix, size: 0, isPrefix: true });
      }
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      yield* entries;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      const mapped = mapError('delete object', key, e);
      if (mapped.code !== StorageErrorCode.NotFound) throw mapped;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        isPrefix: false,
        ...(out.LastModified !== undefined ? { lastModified: out.LastModified.getTime() } : {}),
      };
    } catch (e) {
      const mapped = mapError('head object', key, e);
      if (mapped.code === StorageErrorCode.NotFound) return undefined;
      throw mapped;
    }
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }
}

/** Chunks queued for upload, taken out in parts of a given size. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  bytes = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The first `n` bytes (n ≤ bytes) as one array, copied only when they span chunks. */
  take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.bytes -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.bytes -= n;
    return out;
  }
}
