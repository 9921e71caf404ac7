import { AvroDeserializer, AvroSerializer, SerdeType } from '@confluentinc/schemaregistry';
import type { LogBackend } from '@promstream/testkit';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anomaly, event, sampleBatch } from '../test/fixtures.js';
import { backendFor, dropTopics, freshTopic, registryOn } from '../test/registry-helpers.js';
import { avroType, schemaJson } from './avro-schemas.js';
import { SchemaError, SchemaErrorCode } from './errors.js';
import type { RunningRegistry } from './registry/server.js';
import { createSerdes, RecordSerde } from './serde.js';
import { partitionFor, seriesKey } from './series-key.js';
import { TOPICS } from './topics.js';
import type { Event, SampleBatch } from './types.js';

const backend = await backendFor('serde through the registry');
/** Topics the suite created, dropped at the end. */
const created: string[] = [];

/** Writes records to a fresh topic with kafkajs and reads them back. */
async function throughKafka(
  log: LogBackend,
  records: { key: Buffer; value: Buffer; partition?: number }[],
  partitions = 1,
): Promise<{ key: Buffer | null; value: Buffer | null; partition: number }[]> {
  const topic = freshTopic('promstream-serde-test');
  created.push(topic);
  const kafka = new kafkajs.Kafka({ brokers: log.brokers, logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: records });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: freshTopic('serde-test-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: { key: Buffer | null; value: Buffer | null; partition: number }[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        out.push({ key: message.key, value: message.value, partition });
        if (out.length === records.length) resolve();
      },
    });
  });
  await consumer.disconnect();
  return out;
}

describe.skipIf(backend === undefined)('serde through the registry and the log', () => {
  const log = backend as LogBackend;
  let reg: RunningRegistry;

  beforeAll(async () => {
    const registryTopic = freshTopic();
    created.push(registryTopic);
    reg = await registryOn(log, registryTopic);
  });
  afterAll(async () => {
    await reg?.close();
    await dropTopics(log, created);
    await log.stop();
  });

  it('round-trips every record type through Kafka in the Confluent wire format', async () => {
    const serdes = createSerdes({ registryUrl: reg.url });
    const batchBytes = await serdes.serialize(TOPICS.samples, sampleBatch);
    const eventBytes = await serdes.serialize(TOPICS.events, event);
    const anomalyBytes = await serdes.serialize(TOPICS.anomalies, anomaly);
    const derivedBytes = await serdes.serialize(TOPICS.derived, sampleBatch);
    for (const b of [batchBytes, eventBytes, anomalyBytes, derivedBytes]) expect(b[0]).toBe(0);
    // Each topic's subject got the schema; samples and derived share one schema, so one id.
    expect(derivedBytes.readUInt32BE(1)).toBe(batchBytes.readUInt32BE(1));
    expect(eventBytes.readUInt32BE(1)).not.toBe(batchBytes.readUInt32BE(1));
    expect(await serdes.client.getAllSubjects()).toEqual(
      expect.arrayContaining([
        `${TOPICS.samples}-value`,
        `${TOPICS.events}-value`,
        `${TOPICS.anomalies}-value`,
      ]),
    );

    const back = await throughKafka(log, [
      { key: seriesKey(sampleBatch.series[0]!.labels), value: batchBytes },
      { key: Buffer.from(event.host), value: eventBytes },
      { key: seriesKey(anomaly.labels), value: anomalyBytes },
    ]);
    const reader = createSerdes({ registryUrl: reg.url, autoRegister: false });
    expect(await reader.deserialize(TOPICS.samples, back[0]!.value!)).toEqual(sampleBatch);
    expect(await reader.deserialize(TOPICS.events, back[1]!.value!)).toEqual(event);
    expect(await reader.deserialize(TOPICS.anomalies, back[2]!.value!)).toEqual(anomaly);
    expect(back[1]!.key!.toString()).toBe('h1');

    // The body after the 5-byte header is plain Avro binary of the value.
    expect(eventBytes.subarray(5)).toEqual(avroType('event').toBuffer(event));
    expect(batchBytes.subarray(5)).toEqual(avroType('sampleBatch').toBuffer(sampleBatch));
    // The library's own serializer, pinned to the same id, writes the same bytes; it asks the
    // registry for topic associations first, gets 404, and falls back to <topic>-value.
    const library = new AvroSerializer(serdes.client, SerdeType.VALUE, {
      useSchemaId: eventBytes.readUInt32BE(1),
    });
    expect(await library.serialize(TOPICS.events, event)).toEqual(eventBytes);
    const metrics = await (await fetch(`${reg.url}/metrics`)).text();
    expect(metrics).toMatch(
      /promstream_registry_requests_total\{route="\/associations\/\*",code="404"\} [1-9]/,
    );
  });

  it('writes what the library deserializer reads, and records keyed by series stay on their partition', async () => {
    const serdes = createSerdes({ registryUrl: reg.url });
    const batches: SampleBatch[] = [];
    for (let i = 0; i < 12; i++) {
      const labels = [
        { name: '__name__', value: 'm' },
        { name: 'i', value: String(i) },
      ];
      batches.push({ ...sampleBatch, series: [{ ...sampleBatch.series[0]!, labels }] });
    }
    const records = await Promise.all(
      batches.map(async (b) => ({
        key: seriesKey(b.series[0]!.labels),
        value: await serdes.serialize(TOPICS.samples, b),
        partition: partitionFor(b.series[0]!.labels, 3),
      })),
    );
    const back = await throughKafka(log, records, 3);
    const library = new AvroDeserializer(serdes.client, SerdeType.VALUE, {});
    for (const r of back) {
      const ours = await serdes.deserialize(TOPICS.samples, r.value!);
      expect(r.partition).toBe(partitionFor(ours.series[0]!.labels, 3));
      expect(r.key).toEqual(seriesKey(ours.series[0]!.labels));
      const theirs = (await library.deserialize(TOPICS.samples, r.value!)) as SampleBatch;
      // The library's deserializer gives the (empty) columns as their default, null; ours leaves them undefined.
      expect(theirs).toEqual({ ...ours, columns: null });
    }
    expect(back.map((r) => r.value!.toString('hex')).sort()).toEqual(
      records.map((r) => r.value.toString('hex')).sort(),
    );
  });

  it('refuses values that do not fit and buffers that are not in the wire format', async () => {
    const serdes = createSerdes({ registryUrl: reg.url });
    const wrong = { ...event, severity: 'fatal' } as unknown as Event;
    await expect(serdes.serialize(TOPICS.events, wrong)).rejects.toMatchObject({
      code: SchemaErrorCode.InvalidRecord,
    });
    await expect(serdes.deserialize(TOPICS.events, Buffer.from('plain text'))).rejects.toMatchObject({
      code: SchemaErrorCode.BadWireFormat,
    });
    const good = await serdes.serialize(TOPICS.events, event);
    await expect(serdes.deserialize(TOPICS.events, good.subarray(0, 9))).rejects.toBeInstanceOf(SchemaError);
    const unknownId = Buffer.from(good);
    unknownId.writeUInt32BE(987654, 1);
    // The registry answers 404: an id it does not have, final (not a registry outage).
    await expect(serdes.deserialize(TOPICS.events, unknownId)).rejects.toMatchObject({
      code: SchemaErrorCode.UnknownSchemaId,
      retryable: false,
    });
  });

  it('says so when the registry cannot be reached', async () => {
    const serdes = createSerdes({ registryUrl: 'http://127.0.0.1:9' });
    const err = await serdes.serialize(TOPICS.events, event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as SchemaError).code).toBe(SchemaErrorCode.Registry);
    expect((err as SchemaError).retryable).toBe(true);
  });

  it('evolves Event: old consumers read records with a new optional field, new consumers read old records', async () => {
    const topic = freshTopic('promstream-events-evolution');
    const oldEventSchema = schemaJson('event');
    const base = JSON.parse(oldEventSchema) as { fields: unknown[] };
    const newEventSchema = JSON.stringify({
      ...base,
      fields: [...base.fields, { name: 'fingerprint', type: ['null', 'string'], default: null }],
    });
    const serdes = createSerdes({ registryUrl: reg.url });
    const oldSerde = new RecordSerde<Event>(serdes.client, oldEventSchema);
    const newSerde = new RecordSerde<Event & { fingerprint: string | null }>(serdes.client, newEventSchema);

    const oldBytes = await oldSerde.serialize(topic, event);
    const newEvent = { ...event, kind: 'segfault', fingerprint: 'abc123' };
    const newBytes = await newSerde.serialize(topic, newEvent);
    // The new schema was accepted under BACKWARD and became version 2 of the subject with its own id.
    expect(newBytes.readUInt32BE(1)).not.toBe(oldBytes.readUInt32BE(1));
    expect(await serdes.client.getAllVersions(`${topic}-value`)).toEqual([1, 2]);

    const back = await throughKafka(log, [
      { key: Buffer.from(event.host), value: oldBytes },
      { key: Buffer.from(event.host), value: newBytes },
    ]);
    // Fresh serdes, as separate consumer processes would be.
    const oldReader = new RecordSerde<Event>(serdes.client, oldEventSchema, false);
    const newReader = new RecordSerde<Event & { fingerprint: string | null }>(
      serdes.client,
      newEventSchema,
      false,
    );
    expect(await oldReader.deserialize(topic, back[0]!.value!)).toEqual(event);
    const { fingerprint: _, ...newWithoutField } = newEvent;
    expect(await oldReader.deserialize(topic, back[1]!.value!)).toEqual(newWithoutField);
    expect(await newReader.deserialize(topic, back[0]!.value!)).toEqual({ ...event, fingerprint: null });
    expect(await newReader.deserialize(topic, back[1]!.value!)).toEqual(newEvent);

    // A change old records cannot be read with is refused with the registry's 409.
    const breaking = JSON.stringify({ ...base, fields: [...base.fields, { name: 'pid', type: 'long' }] });
    const err = await new RecordSerde<Event>(serdes.client, breaking)
      .serialize(topic, event)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect(((err as SchemaError).cause as { status: number }).status).toBe(409);
  });
});
