import type { Reader } from './reader.js';

/**
 * Request header v1 (every non-flexible request):
 *   apiKey int16 | apiVersion int16 | correlationId int32 | clientId nullable string
 * Response header v0: correlationId int32.
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
