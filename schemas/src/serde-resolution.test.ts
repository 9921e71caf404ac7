import type { Client } from '@confluentinc/schemaregistry';
import { describe, expect, it } from 'vitest';
import { event } from '../test/fixtures.js';
import { schemaJson } from './avro-schemas.js';
import { SchemaError, SchemaErrorCode } from './errors.js';
import { RecordSerde } from './serde.js';
import type { Event } from './types.js';

// How a reading serde handles a registry that answers wrongly or not at all:
// the registry client is replaced by one whose answer the test switches, so
// each case can show that a failed resolution is never kept.

/** A registry client that answers schema id 7 with whatever `answer` says. */
function switchableClient() {
  const state = {
    answer: 'right' as 'right' | 'string' | 'missing' | 'down',
    fetches: 0,
    clears: 0,
  };
  const client = {
    async getBySubjectAndId(_subject: string, id: number) {
      state.fetches++;
      if (state.answer === 'down') throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      if (state.answer === 'missing' || id !== 7)
        throw Object.assign(new Error('Schema not found; Error code: 40403'), {
          status: 404,
          errorCode: 40403,
        });
      return { schema: state.answer === 'right' ? schemaJson('event') : '"string"' };
    },
    clearCaches() {
      state.clears++;
    },
  };
  return { client: client as unknown as Client, state };
}

/** An Event record written with schema id 7. */
function record(value: Event): Buffer {
  const body = new RecordSerde<Event>(switchableClient().client, schemaJson('event')).type.toBuffer(value);
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), body]);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(SchemaError);
    return (err as SchemaError).code;
  }
}

describe('resolving a record’s schema id', () => {
  it('an id the registry does not have is SCHEMA_UNKNOWN_ID, final, and not cached', async () => {
    const { client, state } = switchableClient();
    const serde = new RecordSerde<Event>(client, schemaJson('event'), false);
    state.answer = 'missing';
    const err = await serde.deserialize('events', record(event)).catch((e: SchemaError) => e);
    expect(err).toMatchObject({ code: SchemaErrorCode.UnknownSchemaId, retryable: false });
    state.answer = 'right';
    expect(await serde.deserialize('events', record(event))).toEqual(event);
  });

  it('a registry that cannot be reached is SCHEMA_REGISTRY and retryable', async () => {
    const { client, state } = switchableClient();
    const serde = new RecordSerde<Event>(client, schemaJson('event'), false);
    state.answer = 'down';
    const err = await serde.deserialize('events', record(event)).catch((e: SchemaError) => e);
    expect(err).toMatchObject({ code: SchemaErrorCode.Registry, retryable: true });
    state.answer = 'right';
    expect(await serde.deserialize('events', record(event))).toEqual(event);
  });

  it('a wrong schema under the id fails, and the record decodes once the registry is fixed', async () => {
    const { client, state } = switchableClient();
    const serde = new RecordSerde<Event>(client, schemaJson('event'), false);
    state.answer = 'string';
    for (let i = 0; i < 3; i++)
      expect(await codeOf(serde.deserialize('events', record(event)))).toBe(SchemaErrorCode.Unresolvable);
    // Every attempt asked the registry and dropped the client's cached answer.
    expect(state.fetches).toBe(3);
    expect(state.clears).toBe(3);
    state.answer = 'right';
    expect(await serde.deserialize('events', record(event))).toEqual(event);
  });

  it('a body that does not decode with the resolved schema is SCHEMA_BODY_MISMATCH and drops the resolution', async () => {
    const { client, state } = switchableClient();
    const serde = new RecordSerde<Event>(client, schemaJson('event'), false);
    expect(await serde.deserialize('events', record(event))).toEqual(event);
    expect(state.fetches).toBe(1);
    // A cached resolution serves the next record without asking.
    await serde.deserialize('events', record(event));
    expect(state.fetches).toBe(1);
    const truncated = record(event).subarray(0, 9);
    const err = await serde.deserialize('events', truncated).catch((e: SchemaError) => e);
    expect(err).toMatchObject({ code: SchemaErrorCode.BodyMismatch, retryable: false });
    // The resolution was dropped: the next record asks the registry again.
    await serde.deserialize('events', record(event));
    expect(state.fetches).toBe(2);
  });

  it('bytes that are not in the wire format are SCHEMA_BAD_WIRE_FORMAT without asking the registry', async () => {
    const { client, state } = switchableClient();
    const serde = new RecordSerde<Event>(client, schemaJson('event'), false);
    expect(await codeOf(serde.deserialize('events', Buffer.from([1, 0, 0, 0, 7, 0])))).toBe(
      SchemaErrorCode.BadWireFormat,
    );
    expect(state.fetches).toBe(0);
  });
});
