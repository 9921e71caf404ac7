import { type RecordKind, schemaJson } from '../avro-schemas.js';
import { TOPICS, valueSubject } from '../topics.js';
import { canonicalOf } from './state.js';

/**
 * The subjects the pipeline relies on, each with the identity of the schema
 * this release of the pipeline writes with. Until the registry has
 * authentication, these subjects are read-only: only that schema may be
 * registered under them (a writer of this release registering its own), and
 * no deletion, compatibility or mode change is taken, neither through the
 * REST API nor from a record written to `_schemas` by another client.
 */
export type ProtectedSubjects = ReadonlyMap<string, string>;

const KINDS: Record<string, RecordKind> = {
  [TOPICS.samples]: 'sampleBatch',
  [TOPICS.derived]: 'sampleBatch',
  [TOPICS.events]: 'event',
  [TOPICS.anomalies]: 'anomaly',
};

/** The pipeline's value subjects and the canonical form of their schemas. */
export function pipelineSubjects(): ProtectedSubjects {
  return new Map(
    Object.entries(KINDS).map(([topic, kind]) => [valueSubject(topic), canonicalOf(schemaJson(kind))]),
  );
}
