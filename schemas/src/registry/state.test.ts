import { describe, expect, it } from 'vitest';
import {
  encodeConfigValue,
  encodeIdHighWaterValue,
  encodeKey,
  encodeModeValue,
  encodeSchemaValue,
} from './records.js';
import { canonicalOf, RegistryState } from './state.js';

const schemaRecord = (subject: string, version: number, id: number, schema: string, deleted = false) =>
  [
    encodeKey({ keytype: 'SCHEMA', subject, version }),
    encodeSchemaValue({ subject, version, id, schema, deleted }),
  ] as const;

describe('RegistryState', () => {
  it('is built from records in order, tombstones included', () => {
    const s = new RegistryState();
    s.apply(...schemaRecord('a', 1, 1, '"int"'));
    s.apply(...schemaRecord('a', 2, 2, '"long"'));
    s.apply(...schemaRecord('b', 1, 1, '"int"'));
    expect(s.subjectNames()).toEqual(['a', 'b']);
    expect(s.versions('a').map((v) => v.version)).toEqual([1, 2]);
    expect(s.nextId()).toBe(3);
    expect(s.usesOfId(1)).toEqual([
      { subject: 'a', version: 1 },
      { subject: 'b', version: 1 },
    ]);
    // A soft delete rewrites the version; a tombstone removes it.
    s.apply(...schemaRecord('a', 2, 2, '"long"', true));
    expect(s.versions('a').map((v) => v.version)).toEqual([1]);
    expect(s.versions('a', true).map((v) => v.version)).toEqual([1, 2]);
    expect(s.maxVersion('a')).toBe(2);
    s.apply(encodeKey({ keytype: 'SCHEMA', subject: 'b', version: 1 }), null);
    expect(s.subjectNames(true)).toEqual(['a']);
    expect(s.hasSubject('b')).toBe(false);
  });

  it('finds an already registered schema whatever its whitespace or key order', () => {
    const s = new RegistryState();
    s.apply(...schemaRecord('a', 1, 5, '{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}'));
    const reordered = '{ "fields": [ {"type": "int", "name": "x"} ], "name": "R", "type": "record" }';
    expect(s.idOfCanonical(canonicalOf(reordered))).toBe(5);
    const withDefault = '{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":1}]}';
    expect(s.idOfCanonical(canonicalOf(withDefault))).toBeUndefined();
  });

  it('keeps the global and subject levels, BACKWARD by default', () => {
    const s = new RegistryState();
    expect(s.effectiveCompatibility('a')).toBe('BACKWARD');
    s.apply(
      encodeKey({ keytype: 'CONFIG', subject: null }),
      encodeConfigValue({ compatibilityLevel: 'FULL' }),
    );
    s.apply(
      encodeKey({ keytype: 'CONFIG', subject: 'a' }),
      encodeConfigValue({ compatibilityLevel: 'NONE' }),
    );
    expect(s.effectiveCompatibility('a')).toBe('NONE');
    expect(s.effectiveCompatibility('b')).toBe('FULL');
    s.apply(encodeKey({ keytype: 'CONFIG', subject: 'a' }), null);
    expect(s.effectiveCompatibility('a')).toBe('FULL');
  });

  it('counts and skips records it cannot read instead of stopping', () => {
    const s = new RegistryState();
    expect(s.apply(Buffer.from('garbage'), Buffer.from('{}')).skipped).toBeInstanceOf(Error);
    expect(s.apply(null, Buffer.from('{}')).skipped).toBeInstanceOf(Error);
    expect(
      s.apply(encodeKey({ keytype: 'SCHEMA', subject: 'a', version: 1 }), Buffer.from('{')).skipped,
    ).toBeInstanceOf(Error);
    s.apply(Buffer.from('{"keytype":"NOOP","magic":0}'), null);
    s.apply(...schemaRecord('a', 1, 1, '"int"'));
    expect(s.skipped).toBe(3);
    expect(s.applied).toBe(2);
    expect(s.subjectNames()).toEqual(['a']);
  });
});

const highWater = (maxId: number) =>
  [encodeKey({ keytype: 'ID_HIGH_WATER' }), encodeIdHighWaterValue({ maxId })] as const;
const mode = (subject: string | null, m: string | null) =>
  [encodeKey({ keytype: 'MODE', subject }), m === null ? null : encodeModeValue({ mode: m })] as const;
const tombstone = (subject: string, version: number) =>
  [encodeKey({ keytype: 'SCHEMA', subject, version }), null] as const;

const record = (fields: unknown[]) => JSON.stringify({ type: 'record', name: 'P', fields });
const pipeline = record([{ name: 'a', type: 'int' }]);
const pipelineV2 = record([
  { name: 'a', type: 'int' },
  { name: 'b', type: 'string', default: '' },
]);

describe('RegistryState ids', () => {
  it('never hands out an id again once its version is deleted for good', () => {
    const s = new RegistryState();
    s.apply(...schemaRecord('a', 1, 1, '"int"'));
    s.apply(...schemaRecord('a', 1, 1, '"int"', true));
    s.apply(...tombstone('a', 1));
    expect(s.subjectNames(true)).toEqual([]);
    expect(s.nextId()).toBe(2);
    // The same schema gets its id back; another one never does.
    expect(s.idOfCanonical(canonicalOf('"int"'))).toBe(1);
    expect(s.idOfCanonical(canonicalOf('"string"'))).toBeUndefined();
  });

  it('keeps the highest id of ID_HIGH_WATER records, never lowering it', () => {
    const s = new RegistryState();
    s.apply(...highWater(7));
    expect(s.nextId()).toBe(8);
    s.apply(...highWater(3));
    s.apply(encodeKey({ keytype: 'ID_HIGH_WATER' }), null);
    expect(s.nextId()).toBe(8);
    expect(s.apply(...highWater(2 ** 31)).ignored).toMatch(/out of range/);
    expect(s.nextId()).toBe(8);
  });

  it('ignores a record that binds a known id to another schema, or brings back a retired id once live', () => {
    const s = new RegistryState();
    s.apply(...schemaRecord('a', 1, 1, '"int"'));
    s.apply(...schemaRecord('gone', 1, 2, '"long"'));
    s.apply(...tombstone('gone', 1));
    s.apply(...highWater(5));
    // While reading the topic at start, an unknown id at or below the high water may be what
    // compaction left of an older record: it is taken.
    expect(s.apply(...schemaRecord('old', 1, 4, '"float"')).ignored).toBeUndefined();
    s.caughtUp();
    expect(s.apply(...schemaRecord('b', 1, 1, '"string"')).ignored).toMatch(/belongs to another schema/);
    expect(s.apply(...schemaRecord('b', 1, 2, '"string"')).ignored).toMatch(/belongs to another schema/);
    expect(s.apply(...schemaRecord('b', 1, 3, '"string"')).ignored).toMatch(
      /handed out before .* not reused/,
    );
    expect(s.apply(...schemaRecord('b', 2, 1, '"int"')).ignored).toBeUndefined();
    expect(s.apply(...schemaRecord('c', 1, 6, '"string"')).ignored).toBeUndefined();
    expect(s.byId(1)?.schema).toBe('"int"');
    expect(s.byId(3)).toBeUndefined();
    expect(s.ignored).toBe(3);
    expect(s.nextId()).toBe(7);
    // A value that names another version than its key is not applied either.
    const [key] = schemaRecord('d', 1, 8, '"int"');
    expect(
      s.apply(key, encodeSchemaValue({ subject: 'd', version: 2, id: 8, schema: '"int"', deleted: false }))
        .ignored,
    ).toMatch(/under the key of version 1/);
  });
});

describe('RegistryState protection and modes', () => {
  const guarded = new Map([['p-value', canonicalOf(pipeline)]]);

  it('takes the pipeline registering compatible versions of a protected subject and nothing else', () => {
    const s = new RegistryState(guarded);
    expect(s.apply(...schemaRecord('p-value', 1, 1, pipeline)).ignored).toBeUndefined();
    expect(s.apply(...schemaRecord('p-value', 1, 1, pipeline)).ignored).toBeUndefined();
    for (const [rec, reason] of [
      [schemaRecord('p-value', 1, 1, pipeline, true), /soft delete/],
      [tombstone('p-value', 1), /permanent delete/],
      [schemaRecord('p-value', 1, 9, '"string"'), /rewrite/],
      [schemaRecord('p-value', 2, 9, '"string"'), /cannot read version 1/],
      [
        [
          encodeKey({ keytype: 'CONFIG', subject: 'p-value' }),
          encodeConfigValue({ compatibilityLevel: 'NONE' }),
        ],
        /compatibility change/,
      ],
      [mode('p-value', 'READWRITE'), /mode change/],
    ] as const) {
      expect(s.apply(rec[0], rec[1]).ignored).toMatch(reason);
    }
    expect(s.apply(...schemaRecord('p-value', 2, 2, pipelineV2)).ignored).toBeUndefined();
    expect(s.versions('p-value').map((v) => v.id)).toEqual([1, 2]);
    expect(s.effectiveCompatibility('p-value')).toBe('BACKWARD');
    expect(s.subjectMode('p-value')).toBe('READONLY');
    // Ignored records raise nothing: 9 was never applied.
    expect(s.nextId()).toBe(3);
  });

  it('keeps Confluent MODE records per subject and globally', () => {
    const s = new RegistryState(guarded);
    expect(s.globalMode()).toBe('READWRITE');
    expect(s.effectiveMode('x')).toBe('READWRITE');
    s.apply(...mode('x', 'READONLY'));
    expect(s.subjectMode('x')).toBe('READONLY');
    s.apply(...mode(null, 'READONLY_OVERRIDE'));
    expect(s.effectiveMode('y')).toBe('READONLY_OVERRIDE');
    s.apply(...mode(null, null));
    s.apply(...mode('x', null));
    expect(s.effectiveMode('x')).toBe('READWRITE');
    expect(s.effectiveMode('p-value')).toBe('READONLY');
    expect(s.apply(...mode('x', 'IMPORT')).ignored).toMatch(/not one this registry offers/);
  });
});
