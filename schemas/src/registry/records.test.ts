import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import {
  decodeConfigValue,
  decodeKey,
  decodeSchemaValue,
  encodeConfigValue,
  encodeKey,
  encodeSchemaValue,
} from './records.js';

describe('_schemas records', () => {
  it('encode keys byte for byte as Confluent does, so compaction sees one key per version', () => {
    expect(
      encodeKey({ keytype: 'SCHEMA', subject: 'promstream.events.v1-value', version: 3 }).toString(),
    ).toBe('{"keytype":"SCHEMA","subject":"promstream.events.v1-value","version":3,"magic":1}');
    expect(encodeKey({ keytype: 'CONFIG', subject: null }).toString()).toBe(
      '{"keytype":"CONFIG","subject":null,"magic":0}',
    );
    expect(encodeKey({ keytype: 'CONFIG', subject: 's"q' }).toString()).toBe(
      '{"keytype":"CONFIG","subject":"s\\"q","magic":0}',
    );
  });

  it('encode values with schemaType only when it is not AVRO', () => {
    expect(
      encodeSchemaValue({ subject: 's', version: 1, id: 7, schema: '"int"', deleted: false }).toString(),
    ).toBe('{"subject":"s","version":1,"id":7,"schema":"\\"int\\"","deleted":false}');
    expect(
      encodeSchemaValue({
        subject: 's',
        version: 1,
        id: 7,
        schema: '{}',
        schemaType: 'JSON',
        deleted: true,
      }).toString(),
    ).toBe('{"subject":"s","version":1,"id":7,"schemaType":"JSON","schema":"{}","deleted":true}');
    expect(encodeConfigValue({ compatibilityLevel: 'FULL' }).toString()).toBe(
      '{"compatibilityLevel":"FULL"}',
    );
  });

  it('decode what they encode and what Confluent writes', () => {
    const key = { keytype: 'SCHEMA', subject: 's', version: 2 } as const;
    expect(decodeKey(encodeKey(key))).toEqual(key);
    expect(decodeKey(Buffer.from('{"keytype":"CONFIG","magic":0}'))).toEqual({
      keytype: 'CONFIG',
      subject: null,
    });
    expect(decodeKey(Buffer.from('{"keytype":"NOOP","magic":0}'))).toEqual({
      keytype: 'OTHER',
      raw: '{"keytype":"NOOP","magic":0}',
    });
    const value = { subject: 's', version: 2, id: 9, schema: '"long"', deleted: false };
    expect(decodeSchemaValue(encodeSchemaValue(value))).toEqual(value);
    // Confluent adds fields we do not keep (metadata, ruleSet, references); they are ignored.
    expect(
      decodeSchemaValue(
        Buffer.from(
          '{"subject":"s","version":1,"id":1,"schema":"\\"int\\"","references":[],"metadata":null}',
        ),
      ),
    ).toEqual({ subject: 's', version: 1, id: 1, schema: '"int"', deleted: false });
    expect(decodeConfigValue(Buffer.from('{"compatibilityLevel":"NONE","normalize":false}'))).toEqual({
      compatibilityLevel: 'NONE',
    });
  });

  it('reject malformed records with a typed error', () => {
    for (const bad of [
      'not json',
      '[1]',
      '{"keytype":"SCHEMA","subject":1,"version":1}',
      '{"keytype":"SCHEMA","subject":"s"}',
    ]) {
      expect(() => decodeKey(Buffer.from(bad))).toThrow(SchemaError);
    }
    expect(() => decodeSchemaValue(Buffer.from('{"subject":"s","version":1,"id":"x","schema":"1"}'))).toThrow(
      SchemaError,
    );
    expect(() => decodeConfigValue(Buffer.from('{}'))).toThrow(SchemaError);
  });
});
