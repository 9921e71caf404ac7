import { hostname } from 'node:os';
import type { LogClient, LogHeaderValue, LogProducer } from '@promstream/log';
import { deadLetterHeaders, type Event, TOPICS } from '@promstream/schemas';
import type { Logger } from 'pino';
import { StreamError } from '../errors.js';
import type { DeadLetter, DeadLetterSink } from './seams.js';

/** How dead letters are also reported on the events topic. */
export interface DeadLetterEvents {
  /** The events topic (promstream.events.v1). */
  topic: string;
  /** The Event value in the Confluent wire format. */
  serialize(event: Event): Promise<Buffer>;
}

/** Options of the Kafka dead-letter sink. */
export interface KafkaDeadLetterSinkOptions {
  /** The log client of the processor that owns the sink (no client of its own). */
  client: LogClient;
  /** The dead-letter topic (default promstream.deadletter.v1); created with one partition when missing. */
  topic?: string;
  /** Each letter is also reported as an Event here, when given; a failed report is logged, not fatal. */
  events?: DeadLetterEvents;
  /** Called when an event could not be written. */
  onEventFailure?: () => void;
  logger: Logger;
}

/** The Event that reports one dead letter. */
export function deadLetterEvent(letter: DeadLetter, host: string): Event {
  const i = letter.info;
  const attributes: Record<string, string> = {
    processor: i.processor,
    reason: i.reason,
    topic: i.topic,
    partition: String(i.partition),
    offset: String(i.offset),
  };
  if (i.tenant !== undefined) attributes.tenant = i.tenant;
  if (i.samples !== undefined) attributes.samples = String(i.samples);
  return {
    time: i.deadLetteredAt,
    host,
    source: 'app',
    kind: 'dead_letter',
    severity: 'warning',
    message: `${i.processor} dead-lettered ${i.topic}/${i.partition}@${i.offset} (${i.reason}): ${i.message}`,
    attributes,
  };
}

/**
 * A DeadLetterSink on the processor's own log client: an idempotent
 * producer writes each letter (the original key, value and headers plus the
 * dead-letter headers) with acks from every in-sync replica, then reports it
 * on the events topic.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly topic: string;
  private readonly host = hostname();
  private readonly producer: LogProducer;
  /** Reports on the events topic still being written; close waits for them. */
  private readonly reports = new Set<Promise<void>>();

  constructor(private readonly options: KafkaDeadLetterSinkOptions) {
    this.topic = options.topic ?? TOPICS.deadletter;
    this.producer = options.client.producer({
      producers: 1,
      ensureTopics: [{ topic: this.topic, partitions: 1 }],
    });
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.producer.send(
        this.topic,
        letters.map((l) => ({
          key: l.key,
          value: l.value,
          headers: { ...originalOnly(l.headers), ...deadLetterHeaders(l.info) },
        })),
      );
    } catch (err) {
      throw new StreamError('LOG', `write ${letters.length} dead letters to ${this.topic}`, { cause: err });
    }
    // The report is best effort and must not hold the caller: a missing events topic makes the
    // producer retry for seconds, long enough for a consumer to miss its group's session timeout.
    const report = this.report(letters).finally(() => this.reports.delete(report));
    this.reports.add(report);
  }

  private async report(letters: readonly DeadLetter[]): Promise<void> {
    const events = this.options.events;
    if (events === undefined) return;
    try {
      const records = [];
      for (const l of letters) {
        records.push({
          key: Buffer.from(this.host),
          value: await events.serialize(deadLetterEvent(l, this.host)),
        });
      }
      await this.producer.send(events.topic, records);
    } catch (err) {
      this.options.onEventFailure?.();
      this.options.logger.warn({ err, letters: letters.length }, 'report dead letters on the events topic');
    }
  }

  /** Closes the producer once the pending reports are written or have failed. */
  async close(): Promise<void> {
    await Promise.allSettled(this.reports);
    await this.producer.close();
  }
}

/** Headers without undefined entries. */
function originalOnly(headers: DeadLetter['headers']): Record<string, LogHeaderValue> {
  const out: Record<string, LogHeaderValue> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}
