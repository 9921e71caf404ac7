import { AvroSerializer, MockClient, SerdeType } from '@confluentinc/schemaregistry';
import { describe, expect, it } from 'vitest';
import { anomaly, event, sampleBatch } from '../test/fixtures.js';
import { schemaJson } from './avro-schemas.js';
import { SchemaErrorCode } from './errors.js';
import { RecordSerde } from './serde.js';
import type { Event, SampleBatch } from './types.js';

/** What the library's AvroSerializer writes for a value under the id RecordSerde registered. */
async function librarySerialize(
  client: MockClient,
  topic: string,
  bytes: Buffer,
  value: unknown,
): Promise<Buffer> {
  const serializer = new AvroSerializer(client, SerdeType.VALUE, { useSchemaId: bytes.readUInt32BE(1) });
  return serializer.serialize(topic, value);
}

describe('RecordSerde.serialize', () => {
  it("writes the same bytes as the library's AvroSerializer pinned to the registered id", async () => {
    const client = new MockClient({ baseURLs: ['mock://serde-bytes'] });
    const batches = new RecordSerde<SampleBatch>(client, schemaJson('sampleBatch'));
    const events = new RecordSerde<Event>(client, schemaJson('event'));
    const anomalies = new RecordSerde<typeof anomaly>(client, schemaJson('anomaly'));
    const big: SampleBatch = {
      tenant: 'tenant-ü',
      producedAt: 1_767_225_600_123,
      series: Array.from({ length: 50 }, (_, i) => ({
        labels: [
          { name: '__name__', value: `m_${i}` },
          { name: 'host', value: `h${i % 7}` },
        ],
        minTime: 1_767_225_600_000 + i,
        maxTime: 1_767_225_600_000 + i * 2,
        encoding: 'XOR' as const,
        chunk: Buffer.from(Array.from({ length: i }, (_, j) => (i * 31 + j) & 0xff)),
        histograms: [],
      })),
    };
    for (const value of [sampleBatch, big]) {
      const got = await batches.serialize('t-samples', value);
      expect(got).toEqual(await librarySerialize(client, 't-samples', got, value));
    }
    const e = await events.serialize('t-events', event);
    expect(e).toEqual(await librarySerialize(client, 't-events', e, event));
    const a = await anomalies.serialize('t-anomalies', anomaly);
    expect(a).toEqual(await librarySerialize(client, 't-anomalies', a, anomaly));
    expect(e.readUInt32BE(1)).not.toBe(a.readUInt32BE(1));
    // And they read back.
    expect(await batches.deserialize('t-samples', await batches.serialize('t-samples', big))).toEqual(big);
  });

  it('refuses a value that does not fit with SCHEMA_INVALID_RECORD naming the field', async () => {
    const client = new MockClient({ baseURLs: ['mock://serde-bytes-invalid'] });
    const events = new RecordSerde<Event>(client, schemaJson('event'));
    const bad = { ...event, severity: 'loud' } as unknown as Event;
    const err = await events.serialize('t-events', bad).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: SchemaErrorCode.InvalidRecord });
    expect(String((err as Error).message)).toMatch(/severity/);
    const empty = await events.serialize('t-events', null as unknown as Event).catch((x: unknown) => x);
    expect(empty).toMatchObject({ code: SchemaErrorCode.InvalidRecord });
  });
});
