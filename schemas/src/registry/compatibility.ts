import type avro from 'avsc';

/** The compatibility levels of Confluent's registry. */
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** Whether a string names a compatibility level. */
export function isCompatibilityLevel(s: unknown): s is CompatibilityLevel {
  return typeof s === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(s);
}

/**
 * Why a reader cannot read data written with a writer's schema, or
 * undefined when it can. The check is Avro schema resolution as avsc
 * implements it (the same code the serde reads with): fields the reader adds
 * need defaults, promotions go int -> long -> float -> double and between
 * string and bytes, enum symbols the writer may send must exist in the reader
 * (or the reader's enum has a default), union branches the writer may send
 * must resolve in the reader, and named types must have the same full name
 * or an alias of it. avsc compares full names where Java Avro compares the
 * unqualified name, so a change of namespace alone counts as incompatible.
 */
export function readIncompatibility(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The reasons a new schema is incompatible with the existing versions of a
 * subject (oldest first) under a level, or an empty list when it is
 * compatible. Non-transitive levels compare with the latest version only.
 */
export function incompatibilities(
  level: CompatibilityLevel,
  candidate: avro.Type,
  existing: readonly { version: number; type: avro.Type }[],
): string[] {
  if (level === 'NONE' || existing.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? existing : existing.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const reasons: string[] = [];
  for (const { version, type } of against) {
    if (backward) {
      const why = readIncompatibility(candidate, type);
      if (why !== undefined)
        reasons.push(`new schema cannot read data written with version ${version}: ${why}`);
    }
    if (forward) {
      const why = readIncompatibility(type, candidate);
      if (why !== undefined)
        reasons.push(`version ${version} cannot read data written with the new schema: ${why}`);
    }
  }
  return reasons;
}
