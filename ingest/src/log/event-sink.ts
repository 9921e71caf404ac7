import type { LogProducer } from '@promstream/log';
import type { Event } from '@promstream/schemas';
import type { SinkResult } from './sample-sink.js';

/**
 * Where events go (the `promstream.events.v1` topic in production). Declared
 * here, beside its log implementation, so the agent depends on the log side
 * and never the other way round.
 */
export interface EventSink {
  /** Resolves once the log holds every event. */
  write(events: readonly Event[]): Promise<SinkResult>;
}

/** The serializing half of the schemas package's Event serde. */
export interface EventSerializer {
  serialize(topic: string, value: Event): Promise<Buffer>;
}

/** Writes agent events to `promstream.events.v1`, keyed by host so one host's events stay in order. */
export class LogEventSink implements EventSink {
  constructor(
    private readonly producer: LogProducer,
    private readonly serde: EventSerializer,
    private readonly topic: string,
  ) {}

  async write(events: readonly Event[]): Promise<SinkResult> {
    const records = [];
    let bytes = 0;
    for (const e of events) {
      const value = await this.serde.serialize(this.topic, e);
      bytes += value.length;
      records.push({ key: Buffer.from(e.host), value });
    }
    await this.producer.send(this.topic, records);
    return { records: records.length, bytes };
  }
}
