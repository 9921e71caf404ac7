import type { LogClient } from '@promstream/log';
import {
  DEFAULT_EVENT_LIMITS,
  type EventFields,
  eventTenant,
  type StoredEvent,
  tenantIdProblem,
  toStored,
} from '@promstream/storage';

/**
 * Where a subscriber is in the events topic: the next offset of each
 * partition. As text (an SSE event id, `Last-Event-ID`): `p:offset` pairs
 * joined by commas, e.g. `0:1200,1:877`.
 */
export type StreamPosition = Map<number, number>;

/** The text form of a position. */
export function formatPosition(p: StreamPosition): string {
  return [...p.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, offset]) => `${partition}:${offset}`)
    .join(',');
}

/** Parses a position; undefined for text that is not one. */
export function parsePosition(text: string): StreamPosition | undefined {
  const out: StreamPosition = new Map();
  if (text.trim() === '') return undefined;
  for (const part of text.split(',')) {
    const m = /^\s*(\d{1,9}):(\d{1,16})\s*$/.exec(part);
    if (m === null) return undefined;
    out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** One subscription: events of one tenant from a position on, until `close`. */
export interface EventSubscription {
  close(): Promise<void>;
}

/** What a subscriber is handed: the events of a batch and the position after it. */
export type EventBatchHandler = (events: readonly StoredEvent[], position: StreamPosition) => Promise<void>;

/** The live events seam of the stream API. */
export interface EventStreamSource {
  /** Starts delivering; `from` absent: only events after the call; `beginning`: from the log start. */
  subscribe(
    tenant: string,
    from: StreamPosition | 'beginning' | undefined,
    handler: EventBatchHandler,
  ): Promise<EventSubscription>;
}

/** Options of the log's stream source. */
export interface LogEventStreamOptions {
  client: Pick<LogClient, 'consumer'>;
  topic: string;
  decode(value: Buffer): Promise<EventFields>;
  defaultTenant: string;
}

/**
 * Live events from the events topic: a group-less consumer per
 * subscription, each partition from the subscriber's position (or its high
 * watermark), fetches held at most 100 ms, so an acknowledged event reaches
 * the subscriber well within a second.
 */
export class LogEventStream implements EventStreamSource {
  constructor(private readonly options: LogEventStreamOptions) {}

  async subscribe(
    tenant: string,
    from: StreamPosition | 'beginning' | undefined,
    handler: EventBatchHandler,
  ): Promise<EventSubscription> {
    const { client, topic, decode, defaultTenant } = this.options;
    const position: StreamPosition = new Map();
    const consumer = client.consumer({
      topic,
      maxWaitMs: 100,
      start: (partition, low, high) => {
        const at = from === 'beginning' ? low : from?.get(partition);
        const start = at === undefined ? high : Math.max(low, at);
        position.set(partition, start);
        return start;
      },
    });
    await consumer.run(async (batch) => {
      const out: StoredEvent[] = [];
      for (const r of batch.records) {
        position.set(batch.partition, r.offset + 1);
        if (r.value === null) continue;
        let e: EventFields;
        try {
          e = await decode(r.value);
        } catch {
          continue;
        }
        const t = eventTenant(e.attributes, defaultTenant);
        if (t !== tenant || tenantIdProblem(t) !== undefined) continue;
        out.push(toStored(e, t, batch.partition, r.offset, DEFAULT_EVENT_LIMITS));
      }
      position.set(batch.partition, Math.max(position.get(batch.partition) ?? 0, batch.nextOffset));
      await handler(out, new Map(position));
    });
    return { close: () => consumer.close() };
  }
}
