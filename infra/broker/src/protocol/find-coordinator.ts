import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * FindCoordinator v0-2.
 * Request: key string | v1+ keyType int8 (0 group, 1 transaction)
 * Response: v1+ throttleTimeMs int32 | errorCode int16 | v1+ errorMessage nullable string
 *   | nodeId int32 host string port int32
 */
export function decodeFindCoordinatorRequest(r: Reader, version: number) {
  const key = r.string();
  const keyType = version >= 1 ? r.int8() : 0;
  return { key, keyType };
}

export function encodeFindCoordinatorResponse(
  w: Writer,
  version: number,
  errorCode: number,
  node: { nodeId: number; host: string; port: number },
): void {
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
  if (version >= 1) w.nullableString(null);
  w.int32(node.nodeId).string(node.host).int32(node.port);
}
