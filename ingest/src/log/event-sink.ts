import type { LogProducer } from '@promstream/log';
import type { Event } from '@promstream/schemas';
import type { EventSink } from '../agent/agent.js';
import type { AgentEvent } from '../agent/events/event.js';
import type { SinkResult } from './sample-sink.js';

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

  async write(events: readonly AgentEvent[]): Promise<SinkResult> {
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
