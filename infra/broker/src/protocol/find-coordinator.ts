import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * FindCoordinator v0-4 (v3+ flexible, v4+ batched).
 * Request: v0-3 key string | v1+ keyType int8 (0 group, 1 transaction) | v4+ coordinatorKeys [string]
 * Response v0-3: v1+ throttleTimeMs int32 | errorCode int16 | v1+ errorMessage nullable string
 *   | nodeId int32 host string port int32
 * Response v4+: throttleTimeMs int32 | coordinators [key string nodeId int32 host string port int32
 *   errorCode int16 errorMessage nullable string]
 * Flexible versions end every structure in tagged fields.
 */
export function decodeFindCoordinatorRequest(r: Reader, version: number) {
  const flex = version >= 3;
  const key = version <= 3 ? r.string(flex) : null;
  const keyType = version >= 1 ? r.int8() : 0;
  const keys = version >= 4 ? r.array((r) => r.string(true), true) : [key as string];
  r.tags(flex);
  return { keys, keyType };
}

export interface Coordinator {
  key: string;
  errorCode: number;
  errorMessage: string | null;
  node: { nodeId: number; host: string; port: number };
}

export function encodeFindCoordinatorResponse(w: Writer, version: number, coordinators: Coordinator[]): void {
  const flex = version >= 3;
  if (version >= 1) w.int32(0);
  if (version >= 4) {
    w.array(
      coordinators,
      (w, c) => {
        w.string(c.key, true).int32(c.node.nodeId).string(c.node.host, true).int32(c.node.port);
        w.int16(c.errorCode).nullableString(c.errorMessage, true).tags(true);
      },
      true,
    );
  } else {
    const c = coordinators[0] as Coordinator;
    w.int16(c.errorCode);
    if (version >= 1) w.nullableString(c.errorMessage, flex);
    w.int32(c.node.nodeId).string(c.node.host, flex).int32(c.node.port);
  }
  w.tags(flex);
}
