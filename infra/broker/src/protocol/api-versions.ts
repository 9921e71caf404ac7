import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * ApiVersions v0-4 (v3+ flexible; the response header is v0 at every version,
 * so a client can read the answer before it knows which versions it may use).
 * Request: v3+ clientSoftwareName compact string clientSoftwareVersion compact string | tags
 * Response: errorCode int16 | apiKeys [apiKey int16 minVersion int16 maxVersion int16 | tags]
 *           | v1+ throttleTimeMs int32 | tags
 * v4 has the v3 layout; a client sending it also accepts UNSUPPORTED_VERSION
 * answers in the v0 format. A request above v4 is answered in the v0 format
 * with UNSUPPORTED_VERSION and the list, so the client can pick a version it
 * shares with the broker.
 */
export function decodeApiVersionsRequest(r: Reader, version: number) {
  if (version < 3) return { clientSoftwareName: null, clientSoftwareVersion: null };
  const clientSoftwareName = r.string(true);
  const clientSoftwareVersion = r.string(true);
  r.tags(true);
  return { clientSoftwareName, clientSoftwareVersion };
}

export function encodeApiVersionsResponse(
  w: Writer,
  version: number,
  errorCode: number,
  apis: ReadonlyArray<{ apiKey: number; min: number; max: number }>,
): void {
  const flexible = version >= 3;
  w.int16(errorCode);
  w.array(apis, (w, a) => w.int16(a.apiKey).int16(a.min).int16(a.max).tags(flexible), flexible);
  if (version >= 1) w.int32(0);
  w.tags(flexible);
}
