/** The topics of the log, by role. Record formats: docs/log-records.md. */
export const TOPICS = {
  samples: 'promstream.samples.v1',
  events: 'promstream.events.v1',
  derived: 'promstream.derived.v1',
  /** Partial aggregates between the two stages of the rollups (stream-processors/src/rollup/README.md). */
  rollupPartials: 'promstream.rollup-partials.v1',
  anomalies: 'promstream.anomalies.v1',
  /** Records a processor could not process, with why (docs/dead-letter.md). */
  deadletter: 'promstream.deadletter.v1',
  schemas: '_schemas',
} as const;

/** One of the topic names above. */
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** The registry subject of a topic's record values (Confluent's TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
