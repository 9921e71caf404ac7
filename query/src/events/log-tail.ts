import type { LogClient } from '@promstream/log';
import {
  DEFAULT_EVENT_LIMITS,
  decodeEventState,
  type EventFields,
  eventStateKey,
  eventTenant,
  type ObjectStore,
  StorageError,
  StorageErrorCode,
  type StoredEvent,
  tenantIdProblem,
  toStored,
} from '@promstream/storage';
import type { EventTail } from './event-querier.js';

/** Options of the log tail. */
export interface LogEventTailOptions {
  client: Pick<LogClient, 'admin' | 'readRanges'>;
  /** The events topic. */
  topic: string;
  /** The bucket with the event store's partition states. */
  store: Pick<ObjectStore, 'get'>;
  /** Decodes a record value (the schemas package's Event serde). */
  decode(value: Buffer): Promise<EventFields>;
  /** The tenant of events without a `tenant` attribute (the event store's default). */
  defaultTenant: string;
}

/**
 * The events of the log no segment holds yet: per partition from the event
 * store's `nextOffset` to the high watermark at the time of the request (a
 * strong read, as the metrics head gives). Records that do not decode, or
 * name a tenant the rule refuses, are skipped here as the store
 * dead-letters them.
 */
export class LogEventTail implements EventTail {
  constructor(private readonly options: LogEventTailOptions) {}

  async read(tenant: string, start: number, end: number): Promise<readonly StoredEvent[]> {
    const { client, topic, store } = this.options;
    const admin = client.admin();
    let marks: Awaited<ReturnType<typeof admin.watermarks>>;
    try {
      marks = await admin.watermarks(topic);
    } finally {
      await admin.close();
    }
    const ranges = new Map<number, { from: number; to: number }>();
    for (const { partition, low, high } of marks) {
      const from = Math.max(low, await this.nextOffset(store, topic, partition));
      if (from < high) ranges.set(partition, { from, to: high });
    }
    const out: StoredEvent[] = [];
    await client.readRanges({
      topic,
      ranges,
      handler: async (partition, records) => {
        for (const r of records) {
          if (r.value === null) continue;
          let e: EventFields;
          try {
            e = await this.options.decode(r.value);
          } catch {
            continue;
          }
          const t = eventTenant(e.attributes, this.options.defaultTenant);
          if (t !== tenant || tenantIdProblem(t) !== undefined || e.time < start || e.time > end) continue;
          out.push(toStored(e, t, partition, r.offset, DEFAULT_EVENT_LIMITS));
        }
      },
    });
    return out;
  }

  private async nextOffset(
    store: Pick<ObjectStore, 'get'>,
    topic: string,
    partition: number,
  ): Promise<number> {
    const key = eventStateKey(topic, partition);
    try {
      return decodeEventState(key, await store.get(key)).nextOffset;
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return 0;
      throw err;
    }
  }
}
