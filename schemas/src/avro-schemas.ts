import { readFileSync } from 'node:fs';
import avro from 'avsc';

/**
 * The schema files of `../avro/`, read once when first asked for. The path is
 * relative to this module, which sits one level below the package root both
 * as source (`src/`) and built (`dist/`).
 */

/** The record types with a schema file. */
export type RecordKind = 'sampleBatch' | 'event' | 'anomaly';

const FILES: Record<RecordKind, string> = {
  sampleBatch: 'sample-batch.avsc',
  event: 'event.avsc',
  anomaly: 'anomaly.avsc',
};

/** The schema text of a record type, as the file holds it. */
export function schemaText(kind: RecordKind): string {
  return readFileSync(new URL(`../avro/${FILES[kind]}`, import.meta.url), 'utf8');
}

/** The schema of a record type as compact JSON, the form registered with the registry. */
export function schemaJson(kind: RecordKind): string {
  return JSON.stringify(JSON.parse(schemaText(kind)));
}

/** The avsc type of a record type. */
export function avroType(kind: RecordKind): avro.Type {
  return avro.Type.forSchema(JSON.parse(schemaText(kind)) as avro.Schema);
}
