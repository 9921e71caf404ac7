import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { type CompatibilityLevel, incompatibilities, readIncompatibility } from './compatibility.js';

const t = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema);
const rec = (fields: unknown[], name = 'R') => t({ type: 'record', name, fields });

describe('readIncompatibility (Avro schema resolution)', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    // [case, reader, writer, readable]
    ['same primitive', 'int', 'int', true],
    ['int promotes to long', 'long', 'int', true],
    ['int promotes to double', 'double', 'int', true],
    ['long promotes to float', 'float', 'long', true],
    ['float promotes to double', 'double', 'float', true],
    ['string reads bytes', 'string', 'bytes', true],
    ['bytes reads string', 'bytes', 'string', true],
    ['long does not narrow to int', 'int', 'long', false],
    ['double does not narrow to float', 'float', 'double', false],
    ['int is not a string', 'string', 'int', false],
    ['union reader takes a matching branch', ['null', 'int'], 'int', true],
    ['union reader takes a promoted branch', ['null', 'long'], 'int', true],
    ['union writer branch missing in reader', ['null', 'int'], ['null', 'int', 'string'], false],
    ['non-union reader of a union writer whose branches all resolve', 'long', ['int', 'long'], true],
    ['array items resolve', { type: 'array', items: 'long' }, { type: 'array', items: 'int' }, true],
    [
      'array items do not resolve',
      { type: 'array', items: 'int' },
      { type: 'array', items: 'string' },
      false,
    ],
    ['map values resolve', { type: 'map', values: 'double' }, { type: 'map', values: 'float' }, true],
    [
      'enum reader with more symbols',
      { type: 'enum', name: 'E', symbols: ['a', 'b'] },
      { type: 'enum', name: 'E', symbols: ['a'] },
      true,
    ],
    [
      'enum reader missing a symbol',
      { type: 'enum', name: 'E', symbols: ['a'] },
      { type: 'enum', name: 'E', symbols: ['a', 'b'] },
      false,
    ],
    [
      'enum reader missing a symbol but with a default',
      { type: 'enum', name: 'E', symbols: ['a', 'z'], default: 'z' },
      { type: 'enum', name: 'E', symbols: ['a', 'b'] },
      true,
    ],
    [
      'fixed of another size',
      { type: 'fixed', name: 'F', size: 4 },
      { type: 'fixed', name: 'F', size: 8 },
      false,
    ],
    [
      'record of another name',
      { type: 'record', name: 'A', fields: [] },
      { type: 'record', name: 'B', fields: [] },
      false,
    ],
    [
      'record of another name with an alias',
      { type: 'record', name: 'A', aliases: ['B'], fields: [] },
      { type: 'record', name: 'B', fields: [] },
      true,
    ],
  ];
  for (const [name, reader, writer, readable] of cases) {
    it(name, () => {
      expect(readIncompatibility(t(reader), t(writer)) === undefined).toBe(readable);
    });
  }

  it('records: added fields need a default, removed fields are skipped', () => {
    const old = rec([{ name: 'a', type: 'int' }]);
    expect(
      readIncompatibility(
        rec([
          { name: 'a', type: 'int' },
          { name: 'b', type: 'int', default: 0 },
        ]),
        old,
      ),
    ).toBeUndefined();
    expect(
      readIncompatibility(
        rec([
          { name: 'a', type: 'int' },
          { name: 'b', type: 'int' },
        ]),
        old,
      ),
    ).toMatch(/b/);
    expect(readIncompatibility(rec([]), old)).toBeUndefined();
  });
});

describe('incompatibilities by level', () => {
  const v1 = rec([{ name: 'a', type: 'int' }]);
  const v2 = rec([]);
  // Needs a default for 'a' to read v2 data; v1 data has 'a'.
  const v3 = rec([{ name: 'a', type: 'int' }]);
  const history = [
    { version: 1, type: v1 },
    { version: 2, type: v2 },
  ];
  const levels: [CompatibilityLevel, boolean][] = [
    ['NONE', true],
    // v3 reads v2 data? v2 has no 'a' and v3's 'a' has no default: no.
    ['BACKWARD', false],
    ['BACKWARD_TRANSITIVE', false],
    // v2 reads v3 data (drops a): yes; v1 reads v3 data: yes.
    ['FORWARD', true],
    ['FORWARD_TRANSITIVE', true],
    ['FULL', false],
    ['FULL_TRANSITIVE', false],
  ];
  for (const [level, ok] of levels) {
    it(`${level} ${ok ? 'accepts' : 'refuses'} re-adding a field without default`, () => {
      expect(incompatibilities(level, v3, history).length === 0).toBe(ok);
    });
  }

  it('non-transitive levels look at the latest version only', () => {
    // v2 -> v4 adds an int with default; v1 had 'a' as a string, which v4 cannot read.
    const s1 = rec([{ name: 'a', type: 'string' }]);
    const s2 = rec([]);
    const s4 = rec([{ name: 'a', type: 'int', default: 0 }]);
    const h = [
      { version: 1, type: s1 },
      { version: 2, type: s2 },
    ];
    expect(incompatibilities('BACKWARD', s4, h)).toEqual([]);
    const transitive = incompatibilities('BACKWARD_TRANSITIVE', s4, h);
    expect(transitive).toHaveLength(1);
    expect(transitive[0]).toContain('version 1');
  });

  it('accepts anything for a subject without versions', () => {
    expect(incompatibilities('FULL_TRANSITIVE', v1, [])).toEqual([]);
  });
});
