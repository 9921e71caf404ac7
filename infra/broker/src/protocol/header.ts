import type { Reader } from './reader.js';

/**
 * Request header v1 (non-flexible versions) and v2 (flexible versions):
 *   apiKey int16 | apiVersion int16 | correlationId int32 | clientId nullable string
 *   | v2 tags
 * The client id stays an int16-prefixed string in v2, so any server can read it.
 * Response header v0: correlationId int32; v1 (flexible versions except
 * ApiVersions): correlationId int32 | tags.
 */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads the fixed part (key, version, correlation id); the client id follows. */
export function decodeRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  return { apiKey, apiVersion, correlationId, clientId: null };
}
