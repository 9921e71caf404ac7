import { deserialize, serialize } from 'node:v8';
import { SchemaError, SchemaErrorCode } from '@promstream/schemas';
import type { Logger } from 'pino';
import { isIngestError } from '../errors.js';
import type { EventSink } from '../log/event-sink.js';
import type { SampleBatchSink } from '../log/sample-sink.js';
import type { WriteSeries } from '../remote-write/types.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { DiskBuffer } from './buffer/disk-buffer.js';
import type { AgentEvent } from './events/event.js';

/** One entry of the disk buffer: a collection's series, or one event. */
export type Entry = { kind: 'samples'; series: WriteSeries[] } | { kind: 'event'; event: AgentEvent };

/** Where the shipper sends, and how. */
export interface ShipperOptions {
  buffer: DiskBuffer;
  tenant: string;
  samples: SampleBatchSink;
  /** Sink for samples sent more than `backfillAfterMs` after collection; absent: `samples`. */
  backfillSamples?: SampleBatchSink;
  backfillAfterMs: number;
  events: EventSink;
  metrics: AgentMetrics;
  logger: Logger;
  now: () => number;
}

/**
 * Moves the disk buffer to the log, oldest entry first, deleting an entry
 * only once the log acknowledged it. Runs of entries of one kind go
 * together. An outage stops the pass and keeps the buffer; an entry the log
 * side refuses for good is dropped and counted, so it cannot stall the rest.
 */
export class BufferShipper {
  private flushing: Promise<number> | undefined;

  constructor(private readonly o: ShipperOptions) {}

  /** Appends an entry to the buffer. */
  append(entry: Entry): void {
    this.o.buffer.append(serialize(entry));
  }

  /** Sends what the buffer holds; resolves with the number of entries delivered. One pass at a time. */
  flush(): Promise<number> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Resolves once a running pass has ended. */
  async idle(): Promise<void> {
    await this.flushing;
  }

  private async flushOnce(): Promise<number> {
    const { buffer, metrics: m, logger } = this.o;
    let delivered = 0;
    for (;;) {
      const entries = buffer.peek(64);
      if (entries.length === 0) return delivered;
      let i = 0;
      while (i < entries.length) {
        const first = deserialize(entries[i]!.payload) as Entry;
        const decoded: Entry[] = [first];
        let j = i + 1;
        for (; j < entries.length; j++) {
          const e = deserialize(entries[j]!.payload) as Entry;
          if (e.kind !== first.kind) break;
          decoded.push(e);
        }
        try {
          await this.send(first.kind, decoded);
        } catch (err) {
          if (!refusedForGood(err)) {
            m.sendFailures.inc();
            logger.warn({ err: (err as Error).message }, 'log unavailable; keeping the buffer');
            return delivered;
          }
          // A record the schema refuses fails the same way on every retry: drop
          // these entries rather than stall everything behind them.
          m.rejected.inc({ kind: first.kind }, j - i);
          logger.error({ err }, 'entries refused for good; dropped');
          buffer.ack(entries[j - 1]!);
          i = j;
          continue;
        }
        buffer.ack(entries[j - 1]!);
        m.sentEntries.inc({ kind: first.kind }, j - i);
        delivered += j - i;
        i = j;
      }
    }
  }

  private async send(kind: Entry['kind'], entries: Entry[]): Promise<void> {
    if (kind === 'samples')
      await this.writeSamples(entries.flatMap((e) => (e.kind === 'samples' ? [e.series] : [])));
    else await this.o.events.write(entries.flatMap((e) => (e.kind === 'event' ? [e.event] : [])));
  }

  /**
   * Sends buffered sample entries, oldest first: those collected longer than
   * `backfillAfterMs` ago through the backfill sink (a live range of their
   * time may be cut by now), the rest through the live one.
   */
  private async writeSamples(entries: WriteSeries[][]): Promise<void> {
    const { backfillSamples, samples, tenant } = this.o;
    const lateBefore = this.o.now() - this.o.backfillAfterMs;
    const newest = (series: WriteSeries[]) =>
      series.reduce((m, s) => Math.max(m, s.timestamps[s.timestamps.length - 1] ?? -Infinity), -Infinity);
    let late = 0;
    if (backfillSamples !== undefined)
      while (late < entries.length && newest(entries[late]!) < lateBefore) late++;
    if (late > 0) await backfillSamples!.write(tenant, entries.slice(0, late).flat());
    if (late < entries.length) await samples.write(tenant, entries.slice(late).flat());
  }
}

/** Whether an error of a write can never succeed on retry (anything unknown is retried). */
export function refusedForGood(err: unknown): boolean {
  if (err instanceof SchemaError) return err.code === SchemaErrorCode.InvalidRecord;
  return isIngestError(err) && !err.retryable;
}
