import type { Writer } from './writer.js';

/**
 * ApiVersions v0-2.
 * Request: (empty)
 * Response: errorCode int16 | apiKeys [apiKey int16 minVersion int16 maxVersion int16]
 *           | v1+ throttleTimeMs int32
 * A request above v2 is answered in the v0 format with UNSUPPORTED_VERSION and
 * the list, so the client can pick a version it shares with the broker.
 */
export function encodeApiVersionsResponse(
  w: Writer,
  version: number,
  errorCode: number,
  apis: ReadonlyArray<{ apiKey: number; min: number; max: number }>,
): void {
  w.int16(errorCode);
  w.array(apis, (w, a) => w.int16(a.apiKey).int16(a.min).int16(a.max));
  if (version >= 1) w.int32(0);
}
