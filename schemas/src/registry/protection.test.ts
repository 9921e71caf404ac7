import {
  announceSkip,
  type LogBackend,
  type Pick,
  realKafka,
  startEmbeddedBroker,
} from '@promstream/testkit';
import kafkajs from 'kafkajs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleBatch } from '../../test/fixtures.js';
import { call, dropTopics, freshTopic, registryOn } from '../../test/registry-helpers.js';
import { createSerdes } from '../serde.js';
import { TOPICS, valueSubject } from '../topics.js';
import {
  encodeConfigValue,
  encodeIdHighWaterValue,
  encodeKey,
  encodeModeValue,
  encodeSchemaValue,
} from './records.js';

// The sequence of issue 27 against the REST API, on Apache Kafka (KAFKA_BROKERS) and on the
// embedded broker: delete soft, delete permanent, compatibility NONE, register "string",
// compatibility FULL, restart. No id is ever handed out twice, and the pipeline keeps writing.

const backends: [string, Pick<LogBackend>][] = [
  ['Apache Kafka', realKafka()],
  ['the embedded broker', await startEmbeddedBroker()],
];
for (const [name, picked] of backends)
  if (!picked.ok) announceSkip(`registry protection on ${name}`, picked.reason);

const SUBJECT = valueSubject(TOPICS.samples);

/** Writes records to the registry's topic as another client (kcat, a script) would. */
async function writeOutside(brokers: string[], topic: string, records: [Buffer, Buffer | null][]) {
  const producer = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: records.map(([key, value]) => ({ key, value, partition: 0 })),
  });
  await producer.disconnect();
}

describe.each(backends.filter(([, p]) => p.ok))('registry protection on %s', (_name, picked) => {
  const log = (picked as { backend: LogBackend }).backend;
  const topics: string[] = [];
  afterAll(async () => {
    await dropTopics(log, topics);
    await log.stop();
  });

  it('refuses every step of the sequence on a pipeline subject, ignores outside records, and keeps the pipeline writing', async () => {
    const topic = freshTopic();
    topics.push(topic);
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    let reg = await registryOn(log, topic, { logger });
    try {
      // The pipeline registers its schema by writing.
      const writer = createSerdes({ registryUrl: reg.url });
      const bytes = await writer.serialize(TOPICS.samples, sampleBatch);
      const id = bytes.readUInt32BE(1);
      const steps: [string, string, unknown][] = [
        ['DELETE', `/subjects/${SUBJECT}/versions/1`, undefined],
        ['DELETE', `/subjects/${SUBJECT}/versions/1?permanent=true`, undefined],
        ['DELETE', `/subjects/${SUBJECT}`, undefined],
        ['PUT', `/config/${SUBJECT}`, { compatibility: 'NONE' }],
        ['POST', `/subjects/${SUBJECT}/versions`, { schema: '"string"' }],
        ['PUT', `/config/${SUBJECT}`, { compatibility: 'FULL' }],
        ['DELETE', `/config/${SUBJECT}`, undefined],
        ['PUT', `/mode/${SUBJECT}`, { mode: 'READWRITE' }],
        ['DELETE', `/mode/${SUBJECT}`, undefined],
      ];
      for (const [method, path, body] of steps) {
        const res = await call(reg.url, method, path, body);
        expect({
          method,
          path,
          status: res.status,
          code: (res.body as { error_code?: number }).error_code,
        }).toEqual({ method, path, status: 422, code: 42205 });
        expect((res.body as { message: string }).message).toMatch(/is in read-only mode/);
      }
      expect((await call(reg.url, 'GET', `/mode/${SUBJECT}`)).body).toEqual({ mode: 'READONLY' });
      expect((await call(reg.url, 'GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
      // The pipeline's own schema is still taken (a writer registering again after a restart).
      const schemaText = ((await call(reg.url, 'GET', `/schemas/ids/${id}`)).body as { schema: string })
        .schema;
      expect(
        (await call(reg.url, 'POST', `/subjects/${SUBJECT}/versions`, { schema: schemaText })).body,
      ).toMatchObject({
        id,
        version: 1,
      });

      // Another client writes to the topic what the API refused: each record is ignored with a warning.
      const key = (version: number) => encodeKey({ keytype: 'SCHEMA', subject: SUBJECT, version });
      await writeOutside(log.brokers, topic, [
        [key(1), null],
        [key(2), encodeSchemaValue({ subject: SUBJECT, version: 2, id, schema: '"string"', deleted: false })],
        [
          encodeKey({ keytype: 'CONFIG', subject: SUBJECT }),
          encodeConfigValue({ compatibilityLevel: 'NONE' }),
        ],
        [encodeKey({ keytype: 'MODE', subject: SUBJECT }), encodeModeValue({ mode: 'READWRITE' })],
        [
          encodeKey({ keytype: 'SCHEMA', subject: 'other-value', version: 1 }),
          encodeSchemaValue({ subject: 'other-value', version: 1, id, schema: '"string"', deleted: false }),
        ],
      ]);
      // A registration after them is answered once they are read, so they are read by then.
      const fresh = await call(reg.url, 'POST', '/subjects/fresh-value/versions', { schema: '"double"' });
      expect((fresh.body as { id: number }).id).toBe(id + 1);
      const ignored = warnings.filter((w) => w.includes('ignore a registry record'));
      expect(ignored).toHaveLength(5);
      expect((await call(reg.url, 'GET', `/subjects/${SUBJECT}/versions`)).body).toEqual([1]);
      expect((await call(reg.url, 'GET', `/schemas/ids/${id}`)).body).toEqual({ schema: schemaText });
      expect((await call(reg.url, 'GET', '/subjects')).body).toEqual(['fresh-value', SUBJECT]);
      const metrics = (await call(reg.url, 'GET', '/metrics')).body as string;
      expect(metrics).toMatch(/promstream_registry_log_records_total\{outcome="ignored"\} 5/);

      await reg.close();
      reg = await registryOn(log, topic, { logger });
      // After the restart the same records are ignored again and the state is the same.
      expect((await call(reg.url, 'GET', `/subjects/${SUBJECT}/versions`)).body).toEqual([1]);
      expect((await call(reg.url, 'GET', `/schemas/ids/${id}`)).body).toEqual({ schema: schemaText });
      const reader = createSerdes({ registryUrl: reg.url, autoRegister: false });
      expect(await reader.deserialize(TOPICS.samples, bytes)).toEqual(sampleBatch);
      const writerAfter = createSerdes({ registryUrl: reg.url });
      const written = await writerAfter.serialize(TOPICS.samples, sampleBatch);
      expect(written.readUInt32BE(1)).toBe(id);
      expect(await reader.deserialize(TOPICS.samples, written)).toEqual(sampleBatch);
    } finally {
      await reg.close();
    }
  });

  it('with the subjects writable, takes the same sequence but never hands the deleted id to another schema, across a restart', async () => {
    const topic = freshTopic();
    topics.push(topic);
    let reg = await registryOn(log, topic, { writablePipelineSubjects: true });
    try {
      const writer = createSerdes({ registryUrl: reg.url });
      const bytes = await writer.serialize(TOPICS.samples, sampleBatch);
      const id = bytes.readUInt32BE(1);
      expect((await call(reg.url, 'DELETE', `/subjects/${SUBJECT}/versions/1`)).body).toBe(1);
      expect((await call(reg.url, 'DELETE', `/subjects/${SUBJECT}/versions/1?permanent=true`)).body).toBe(1);
      expect((await call(reg.url, 'PUT', `/config/${SUBJECT}`, { compatibility: 'NONE' })).status).toBe(200);
      const string = await call(reg.url, 'POST', `/subjects/${SUBJECT}/versions`, { schema: '"string"' });
      expect(string.status).toBe(200);
      const stringId = (string.body as { id: number }).id;
      expect(stringId).toBeGreaterThan(id);
      expect((await call(reg.url, 'PUT', `/config/${SUBJECT}`, { compatibility: 'FULL' })).status).toBe(200);
      await reg.close();
      reg = await registryOn(log, topic, { writablePipelineSubjects: true });
      // The deleted id resolves to nothing, never to "string"; a new schema gets an id above all.
      expect((await call(reg.url, 'GET', `/schemas/ids/${id}`)).status).toBe(404);
      expect((await call(reg.url, 'GET', `/schemas/ids/${stringId}`)).body).toEqual({ schema: '"string"' });
      const next = await call(reg.url, 'POST', '/subjects/next-value/versions', { schema: '"bytes"' });
      expect((next.body as { id: number }).id).toBe(stringId + 1);
      // Registered again, the pipeline's schema gets its own id back, so old records decode again.
      await call(reg.url, 'PUT', `/config/${SUBJECT}`, { compatibility: 'NONE' });
      const reader = createSerdes({ registryUrl: reg.url, autoRegister: false });
      await expect(reader.deserialize(TOPICS.samples, bytes)).rejects.toThrow();
      const back = await createSerdes({ registryUrl: reg.url }).serialize(TOPICS.samples, sampleBatch);
      expect(back.readUInt32BE(1)).toBe(id);
      expect(
        await createSerdes({ registryUrl: reg.url, autoRegister: false }).deserialize(TOPICS.samples, bytes),
      ).toEqual(sampleBatch);
    } finally {
      await reg.close();
    }
  });

  it('continues above the highest id ever handed out when compaction has removed the deleted records', async () => {
    // What compaction leaves of a topic whose ids 1 to 7 were all deleted for good: the high water.
    const topic = freshTopic();
    topics.push(topic);
    const reg0 = await registryOn(log, topic);
    await reg0.close();
    await writeOutside(log.brokers, topic, [
      [encodeKey({ keytype: 'ID_HIGH_WATER' }), encodeIdHighWaterValue({ maxId: 7 })],
    ]);
    const reg = await registryOn(log, topic);
    try {
      const res = await call(reg.url, 'POST', '/subjects/after-compaction-value/versions', {
        schema: '"int"',
      });
      expect(res.body).toMatchObject({ id: 8, version: 1 });
    } finally {
      await reg.close();
    }
  });

  it("serves Confluent's /mode API with its error codes", async () => {
    const topic = freshTopic();
    topics.push(topic);
    const reg = await registryOn(log, topic);
    try {
      await call(reg.url, 'POST', '/subjects/m-value/versions', { schema: '"int"' });
      expect(await call(reg.url, 'GET', '/mode/m-value')).toMatchObject({
        status: 404,
        body: { error_code: 40409 },
      });
      expect((await call(reg.url, 'GET', '/mode/m-value?defaultToGlobal=true')).body).toEqual({
        mode: 'READWRITE',
      });
      expect(await call(reg.url, 'PUT', '/mode/m-value', { mode: 'SIDEWAYS' })).toMatchObject({
        status: 422,
        body: { error_code: 42204 },
      });
      expect(await call(reg.url, 'PUT', '/mode/m-value', { mode: 'IMPORT' })).toMatchObject({
        status: 422,
        body: { error_code: 42204 },
      });
      expect((await call(reg.url, 'PUT', '/mode/m-value', { mode: 'READONLY' })).body).toEqual({
        mode: 'READONLY',
      });
      expect((await call(reg.url, 'GET', '/mode/m-value')).body).toEqual({ mode: 'READONLY' });
      expect(await call(reg.url, 'POST', '/subjects/m-value/versions', { schema: '"long"' })).toMatchObject({
        status: 422,
        body: { error_code: 42205, message: 'Subject m-value is in read-only mode' },
      });
      expect((await call(reg.url, 'DELETE', '/subjects/m-value')).body).toMatchObject({ error_code: 42205 });
      expect((await call(reg.url, 'DELETE', '/mode/m-value')).body).toEqual({ mode: 'READONLY' });
      expect(await call(reg.url, 'DELETE', '/mode/m-value')).toMatchObject({
        status: 404,
        body: { error_code: 40401 },
      });
      expect((await call(reg.url, 'PUT', '/mode', { mode: 'READONLY_OVERRIDE' })).body).toEqual({
        mode: 'READONLY_OVERRIDE',
      });
      expect((await call(reg.url, 'GET', '/mode')).body).toEqual({ mode: 'READONLY_OVERRIDE' });
      expect((await call(reg.url, 'POST', '/subjects/n-value/versions', { schema: '"int"' })).status).toBe(
        422,
      );
      expect((await call(reg.url, 'PUT', '/mode', { mode: 'readwrite' })).body).toEqual({
        mode: 'READWRITE',
      });
      expect((await call(reg.url, 'POST', '/subjects/n-value/versions', { schema: '"int"' })).status).toBe(
        200,
      );
    } finally {
      await reg.close();
    }
  });
});
