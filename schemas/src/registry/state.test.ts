import { describe, expect, it } from 'vitest';
import { encodeConfigValue, encodeKey, encodeSchemaValue } from './records.js';
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
