import snappy from 'snappy';
import { IngestError, IngestErrorCode } from '../errors.js';
import { checkDeclaredLength, checkShape, type ShapeLimits } from './shape.js';
import type { WriteRequest } from './types.js';
import { decodeV1, V1_PROTO } from './v1.js';
import { decodeV2, V2_PROTO } from './v2.js';
import { defaultLimits } from './validate.js';

/** The remote-write wire version a request uses. */
export type WireVersion = '1.0' | '2.0';

/**
 * Picks the wire version from the Content-Type, as the 2.0 spec asks:
 * `application/x-protobuf` alone means 1.0, `proto=` names the message.
 */
export function wireVersion(contentType: string | undefined): WireVersion {
  if (contentType === undefined || contentType.trim() === '') return '1.0';
  const [media, ...params] = contentType.split(';').map((p) => p.trim());
  if (media?.toLowerCase() !== 'application/x-protobuf') {
    throw new IngestError(
      IngestErrorCode.UnsupportedMediaType,
      `content type ${JSON.stringify(contentType)} is not supported; send application/x-protobuf`,
    );
  }
  for (const p of params) {
    const [k, v] = p.split('=').map((x) => x.trim());
    if (k?.toLowerCase() !== 'proto') continue;
    if (v === V1_PROTO) return '1.0';
    if (v === V2_PROTO) return '2.0';
    throw new IngestError(
      IngestErrorCode.UnsupportedMediaType,
      `protobuf message ${JSON.stringify(v)} is not supported; send ${V1_PROTO} or ${V2_PROTO}`,
    );
  }
  return '1.0';
}

/** Decompresses and decodes a request body of the given version, checking its size and shape first. */
export function decodeBody(
  body: Buffer,
  version: WireVersion,
  contentEncoding: string | undefined,
  limits: ShapeLimits = defaultLimits,
): WriteRequest {
  checkEncoding(contentEncoding);
  checkDeclaredLength(body, limits.maxDecompressedBytes);
  let raw: Buffer;
  try {
    raw = snappy.uncompressSync(body, { asBuffer: true }) as Buffer;
  } catch (cause) {
    throw snappyError(cause);
  }
  return decodeRaw(raw, version, limits);
}

/**
 * Decompresses a request body on the libuv thread pool, so the main thread
 * decodes other requests meanwhile; rejects as `decodeBody` throws. A body
 * declaring more than `maxDecompressedBytes` is refused before anything is
 * allocated for it, and the decompressor refuses output longer than declared.
 */
export async function uncompressBody(
  body: Buffer,
  contentEncoding: string | undefined,
  maxDecompressedBytes: number = defaultLimits.maxDecompressedBytes,
): Promise<Buffer> {
  checkEncoding(contentEncoding);
  checkDeclaredLength(body, maxDecompressedBytes);
  try {
    return (await snappy.uncompress(body, { asBuffer: true })) as Buffer;
  } catch (cause) {
    throw snappyError(cause);
  }
}

/**
 * Decodes an uncompressed request body of the given version, once its shape
 * is within the limits (so decoding allocates a bounded amount).
 */
export function decodeRaw(
  raw: Buffer,
  version: WireVersion,
  limits: ShapeLimits = defaultLimits,
): WriteRequest {
  checkShape(raw, version, limits);
  return version === '2.0' ? decodeV2(raw) : decodeV1(raw);
}

function checkEncoding(contentEncoding: string | undefined): void {
  const encoding = (contentEncoding ?? 'snappy').trim().toLowerCase();
  if (encoding !== 'snappy') {
    throw new IngestError(
      IngestErrorCode.UnsupportedMediaType,
      `content encoding ${JSON.stringify(contentEncoding)} is not supported; send snappy`,
    );
  }
}

function snappyError(cause: unknown): IngestError {
  return new IngestError(IngestErrorCode.MalformedRequest, `snappy: ${(cause as Error).message}`, { cause });
}
