import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { compress, decompress } from 'zstd-napi';
import type { StoredEvent } from './stored-event.js';

/**
 * Event segments: immutable Parquet files, zstd-compressed, one per tenant
 * and hour of a cut (FORMAT.md). Encode and decode are pure functions over
 * bytes; the key comes from the partition offsets the cut covers, so a
 * segment built again from the same records lands at the same key.
 */

/** The prefix every segment key starts with. */
export const EVENTS_PREFIX = 'events';

/** Where a cut came from: written to each of its files' key-value metadata. */
export interface SegmentOrigin {
  topic: string;
  partition: number;
  /** The first and last offset of the cut (inclusive); its files hold the events of those it has. */
  firstOffset: number;
  lastOffset: number;
}

/** Offsets are zero-padded so keys list in offset order. */
function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The date and hour (UTC) of a time, as the hive path has them. */
export function hourOf(time: number): { date: string; hour: string } {
  const iso = new Date(time).toISOString();
  return { date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/** The directory of a tenant's hour: `events/<tenant>/date=YYYY-MM-DD/hour=HH/`. */
export function hourPrefix(tenant: string, time: number): string {
  const { date, hour } = hourOf(time);
  return `${EVENTS_PREFIX}/${tenant}/date=${date}/hour=${hour}/`;
}

/** The file name of a cut's segment: `p<partition>-<first>-<last>.parquet`. */
export function eventSegmentName(origin: SegmentOrigin): string {
  return `p${pad(origin.partition, 5)}-${pad(origin.firstOffset, 20)}-${pad(origin.lastOffset, 20)}.parquet`;
}

/** The full key of one file of a cut. */
export function segmentKey(tenant: string, hourStart: number, origin: SegmentOrigin): string {
  return `${hourPrefix(tenant, hourStart)}${eventSegmentName(origin)}`;
}

const KEY_PATTERN = /^events\/([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/p(\d+)-(\d+)-(\d+)\.parquet$/;

/** What a segment key says, or undefined for a key that is not one. */
export function parseSegmentKey(
  key: string,
):
  | { tenant: string; hourStart: number; partition: number; firstOffset: number; lastOffset: number }
  | undefined {
  const m = KEY_PATTERN.exec(key);
  if (m === null) return undefined;
  return {
    tenant: m[1] as string,
    hourStart: Date.parse(`${m[2]}T${m[3]}:00:00Z`),
    partition: Number(m[4]),
    firstOffset: Number(m[5]),
    lastOffset: Number(m[6]),
  };
}

const compressors = { ZSTD: (input: Uint8Array) => new Uint8Array(compress(input, { compressionLevel: 3 })) };
const decompressors = {
  ZSTD: (input: Uint8Array, _outputLength: number) => new Uint8Array(decompress(input)),
};

/** Encodes events (of one tenant and hour, in offset order) as a Parquet file. */
export function encodeSegment(events: readonly StoredEvent[], origin: SegmentOrigin): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    codec: 'ZSTD',
    compressors,
    // One row group per segment: segments are small, and readers then prune by file.
    rowGroupSize: Math.max(1, events.length),
    columnData: [
      // Numbers, not Dates: the writer turns either into INT64 millis, numbers without an allocation each.
      { name: 'time', type: 'TIMESTAMP', data: events.map((e) => e.time), nullable: false },
      { name: 'host', type: 'STRING', data: events.map((e) => e.host), nullable: false },
      { name: 'source', type: 'STRING', data: events.map((e) => e.source), nullable: false },
      { name: 'kind', type: 'STRING', data: events.map((e) => e.kind), nullable: false },
      { name: 'severity', type: 'STRING', data: events.map((e) => e.severity), nullable: false },
      // No min/max for free text: no reader prunes by them, and they cost encode time.
      {
        name: 'message',
        type: 'STRING',
        data: events.map((e) => e.message),
        nullable: false,
        statistics: false,
      },
      // JSON text in a plain string column: hyparquet-writer's JSON type costs a third of the encode.
      {
        name: 'attributes',
        type: 'STRING',
        data: events.map((e) => JSON.stringify(e.attributes)),
        nullable: false,
        statistics: false,
      },
      { name: 'truncated', type: 'BOOLEAN', data: events.map((e) => e.truncated), nullable: false },
      { name: 'tenant', type: 'STRING', data: events.map((e) => e.tenant), nullable: false },
      {
        name: 'partition',
        type: 'INT32',
        data: Int32Array.from(events, (e) => e.partition),
        nullable: false,
      },
      {
        name: 'offset',
        type: 'INT64',
        data: BigInt64Array.from(events, (e) => BigInt(e.offset)),
        nullable: false,
      },
    ],
    kvMetadata: [
      { key: 'promstream.topic', value: origin.topic },
      { key: 'promstream.partition', value: String(origin.partition) },
      { key: 'promstream.first_offset', value: String(origin.firstOffset) },
      { key: 'promstream.last_offset', value: String(origin.lastOffset) },
      { key: 'promstream.format', value: 'events-v1' },
    ],
    createdBy: 'promstream event-store',
  });
  return writer.getBytes();
}

/** The key-value metadata of a segment. */
export function segmentMetadata(bytes: Uint8Array): Record<string, string> {
  const meta = parquetMetadata(bytes);
  const out: Record<string, string> = {};
  for (const kv of meta.key_value_metadata ?? []) out[kv.key] = kv.value ?? '';
  return out;
}

/** Decodes a segment's events, in file order. */
export async function decodeSegment(bytes: Uint8Array): Promise<StoredEvent[]> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = await parquetReadObjects({ file: buffer, compressors: decompressors });
  return rows.map((r) => ({
    tenant: r.tenant as string,
    partition: Number(r.partition),
    offset: Number(r.offset),
    time: (r.time as Date).getTime(),
    host: r.host as string,
    source: r.source as string,
    kind: r.kind as string,
    severity: r.severity as string,
    message: r.message as string,
    attributes: JSON.parse(r.attributes as string) as Record<string, string>,
    truncated: r.truncated as boolean,
  }));
}

const HOUR_MS = 3_600_000;

/**
 * A cut's events as its files: one per tenant and hour, each with its key,
 * in key order. The hour is computed once per event as a number, the key
 * once per file.
 */
export function cutFiles(
  events: readonly StoredEvent[],
  origin: SegmentOrigin,
): { key: string; events: StoredEvent[] }[] {
  const groups = new Map<string, { tenant: string; hour: number; events: StoredEvent[] }>();
  for (const e of events) {
    const hour = Math.floor(e.time / HOUR_MS);
    const id = `${e.tenant}\u0000${hour}`;
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { tenant: e.tenant, hour, events: [e] });
    else g.events.push(e);
  }
  return [...groups.values()]
    .map((g) => ({ key: segmentKey(g.tenant, g.hour * HOUR_MS, origin), events: g.events }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
