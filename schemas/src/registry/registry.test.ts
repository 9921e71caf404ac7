import { Compatibility, RestError, SchemaRegistryClient } from '@confluentinc/schemaregistry';
import type { LogBackend } from '@promstream/testkit';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendFor, call, dropTopics, freshTopic, registryOn } from '../../test/registry-helpers.js';
import { RegistryError, RegistryErrorCode } from './errors.js';
import { type RunningRegistry, startRegistry } from './server.js';

const backend = await backendFor('schema registry');

const record = (fields: unknown[], name = 'Thing') =>
  JSON.stringify({ type: 'record', name, namespace: 't', fields });
const v1 = record([{ name: 'a', type: 'int' }]);
const v2 = record([
  { name: 'a', type: 'long' },
  { name: 'b', type: 'string', default: '' },
]);
const noDefault = record([
  { name: 'a', type: 'long' },
  { name: 'c', type: 'string' },
]);

describe.skipIf(backend === undefined)('schema registry over HTTP on a real log', () => {
  const log = backend as LogBackend;
  const topic = freshTopic();
  let reg: RunningRegistry;

  beforeAll(async () => {
    reg = await registryOn(log, topic);
  });
  afterAll(async () => {
    await reg?.close();
    await dropTopics(log, [topic]);
    await log.stop();
  });

  it('registers, answers the same id for the same schema, and gives versions and ids', async () => {
    const first = await call(reg.url, 'POST', '/subjects/things-value/versions', { schema: v1 });
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^application\/vnd\.schemaregistry\.v1\+json/);
    const { id } = first.body as { id: number };
    expect(Number.isInteger(id)).toBe(true);
    // Same schema with other whitespace and key order: same id, no new version.
    const again = await call(reg.url, 'POST', '/subjects/things-value/versions', {
      schema: JSON.stringify(JSON.parse(v1), null, 2),
    });
    expect(again.body).toMatchObject({ id, version: 1 });
    const second = await call(reg.url, 'POST', '/subjects/things-value/versions', { schema: v2 });
    expect(second.body).toMatchObject({ id: id + 1, version: 2 });
    // The same schema under another subject keeps its id.
    const other = await call(reg.url, 'POST', '/subjects/other-value/versions?normalize=true', {
      schema: v1,
    });
    expect(other.body).toMatchObject({ id, version: 1 });

    expect((await call(reg.url, 'GET', `/schemas/ids/${id}`)).body).toEqual({ schema: v1 });
    expect((await call(reg.url, 'GET', `/schemas/ids/${id}/versions`)).body).toEqual([
      { subject: 'other-value', version: 1 },
      { subject: 'things-value', version: 1 },
    ]);
    expect((await call(reg.url, 'GET', '/subjects')).body).toEqual(['other-value', 'things-value']);
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions')).body).toEqual([1, 2]);
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions/latest')).body).toEqual({
      subject: 'things-value',
      version: 2,
      id: id + 1,
      schema: v2,
    });
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions/1')).body).toMatchObject({
      id,
      version: 1,
    });
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions/1/schema')).body).toEqual(
      JSON.parse(v1),
    );
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions/1/referencedby')).body).toEqual([]);
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions/9/referencedby')).body).toMatchObject(
      {
        error_code: 40402,
      },
    );
    expect((await call(reg.url, 'POST', '/subjects/things-value', { schema: v2 })).body).toMatchObject({
      subject: 'things-value',
      version: 2,
      id: id + 1,
    });
  });

  it('refuses an incompatible schema with 409 and leaves the subject as it was', async () => {
    const refused = await call(reg.url, 'POST', '/subjects/things-value/versions', { schema: noDefault });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error_code: 409 });
    expect((refused.body as { message: string }).message).toContain('incompatible');
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions')).body).toEqual([1, 2]);
    const check = await call(
      reg.url,
      'POST',
      '/compatibility/subjects/things-value/versions/latest?verbose=true',
      {
        schema: noDefault,
      },
    );
    expect(check.body).toMatchObject({ is_compatible: false });
    expect((check.body as { messages: string[] }).messages.length).toBeGreaterThan(0);
    const ok = await call(reg.url, 'POST', '/compatibility/subjects/things-value/versions/1', {
      schema: v2,
    });
    expect(ok.body).toEqual({ is_compatible: true });
  });

  it('changes compatibility per subject and globally', async () => {
    expect((await call(reg.url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    const none = await call(reg.url, 'GET', '/config/things-value');
    expect(none).toMatchObject({ status: 404, body: { error_code: 40408 } });
    expect((await call(reg.url, 'GET', '/config/things-value?defaultToGlobal=true')).body).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
    expect((await call(reg.url, 'PUT', '/config/things-value', { compatibility: 'NONE' })).body).toEqual({
      compatibility: 'NONE',
    });
    expect((await call(reg.url, 'GET', '/config/things-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    const accepted = await call(reg.url, 'POST', '/subjects/things-value/versions', { schema: noDefault });
    expect(accepted.body).toMatchObject({ version: 3 });
    expect((await call(reg.url, 'DELETE', '/config/things-value')).body).toEqual({
      compatibilityLevel: 'NONE',
    });
    const bad = await call(reg.url, 'PUT', '/config', { compatibility: 'SIDEWAYS' });
    expect(bad).toMatchObject({ status: 422, body: { error_code: 42203 } });
    expect((await call(reg.url, 'PUT', '/config', { compatibility: 'FULL' })).body).toEqual({
      compatibility: 'FULL',
    });
    expect((await call(reg.url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    // FULL: v2 -> a schema that drops the defaulted field b is fine both ways; adding an int field without default is not.
    const full = await call(reg.url, 'POST', '/subjects/other-value/versions', {
      schema: record([
        { name: 'a', type: 'int' },
        { name: 'z', type: 'int' },
      ]),
    });
    expect(full.status).toBe(409);
    await call(reg.url, 'PUT', '/config', { compatibility: 'BACKWARD' });
  });

  it('answers errors in Confluent form with their codes', async () => {
    const cases: [string, string, unknown, number, number][] = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/things-value/versions/99', undefined, 404, 40402],
      ['GET', '/subjects/things-value/versions/zero', undefined, 422, 42202],
      ['GET', '/schemas/ids/99999', undefined, 404, 40403],
      ['POST', '/subjects/things-value', { schema: '"boolean"' }, 404, 40403],
      ['POST', '/subjects/nope', { schema: '"boolean"' }, 404, 40401],
      ['POST', '/subjects/things-value/versions', { schema: '{"type":"record"' }, 422, 42201],
      ['POST', '/subjects/things-value/versions', { schema: '{"type":"nosuch"}' }, 422, 42201],
      ['POST', '/subjects/things-value/versions', { schema: '"int"', schemaType: 'PROTOBUF' }, 422, 42201],
      ['POST', '/subjects/things-value/versions', {}, 422, 42201],
      ['GET', '/associations/resources/-/things', undefined, 404, 404],
      ['GET', '/no/such/route', undefined, 404, 404],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(reg.url, method, path, body);
      expect({ path, status: res.status, code: (res.body as { error_code: number }).error_code }).toEqual({
        path,
        status,
        code,
      });
      expect(typeof (res.body as { message: unknown }).message).toBe('string');
    }
    const garbage = await fetch(`${reg.url}/subjects/x/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: '{not json',
    });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ error_code: 400 });
  });

  it('soft-deletes and then permanently deletes versions and subjects', async () => {
    await call(reg.url, 'POST', '/subjects/gone-value/versions', { schema: '"string"' });
    await call(reg.url, 'PUT', '/config/gone-value', { compatibility: 'NONE' });
    await call(reg.url, 'POST', '/subjects/gone-value/versions', { schema: '"bytes"' });
    expect(
      (await call(reg.url, 'DELETE', '/subjects/gone-value/versions/1?permanent=true')).body,
    ).toMatchObject({
      error_code: 40407,
    });
    expect((await call(reg.url, 'DELETE', '/subjects/gone-value/versions/1')).body).toBe(1);
    expect((await call(reg.url, 'GET', '/subjects/gone-value/versions')).body).toEqual([2]);
    expect((await call(reg.url, 'GET', '/subjects/gone-value/versions/1')).body).toMatchObject({
      error_code: 40402,
    });
    expect((await call(reg.url, 'GET', '/subjects/gone-value/versions/1?deleted=true')).body).toMatchObject({
      version: 1,
    });
    expect((await call(reg.url, 'DELETE', '/subjects/gone-value?permanent=true')).body).toMatchObject({
      error_code: 40405,
    });
    expect((await call(reg.url, 'DELETE', '/subjects/gone-value')).body).toEqual([2]);
    expect((await call(reg.url, 'DELETE', '/subjects/gone-value')).body).toMatchObject({ error_code: 40404 });
    expect((await call(reg.url, 'GET', '/subjects')).body).not.toContain('gone-value');
    expect((await call(reg.url, 'GET', '/subjects?deleted=true')).body).toContain('gone-value');
    expect((await call(reg.url, 'DELETE', '/subjects/gone-value?permanent=true')).body).toEqual([1, 2]);
    expect((await call(reg.url, 'GET', '/subjects?deleted=true')).body).not.toContain('gone-value');
    expect((await call(reg.url, 'GET', '/subjects/gone-value/versions')).body).toMatchObject({
      error_code: 40401,
    });
  });

  it('serves the calls of @confluentinc/schemaregistry', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [reg.url] });
    const id = await client.register('client-value', { schemaType: 'AVRO', schema: v1 }, false);
    expect(await client.getId('client-value', { schemaType: 'AVRO', schema: v1 }, false)).toBe(id);
    expect((await client.getBySubjectAndId('client-value', id)).schema).toBe(v1);
    expect((await client.getLatestSchemaMetadata('client-value')).version).toBe(1);
    expect(await client.getAllVersions('client-value')).toEqual([1]);
    expect(await client.getAllSubjects()).toContain('client-value');
    expect(
      await client.testSubjectCompatibility('client-value', { schemaType: 'AVRO', schema: noDefault }),
    ).toBe(false);
    expect(await client.testCompatibility('client-value', 1, { schemaType: 'AVRO', schema: v2 })).toBe(true);
    expect(await client.updateCompatibility('client-value', Compatibility.FORWARD)).toBe('FORWARD');
    expect(await client.getCompatibility('client-value')).toBe('FORWARD');
    const refused = await client
      .register('client-value', { schemaType: 'AVRO', schema: noDefault }, false)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RestError);
    expect((refused as RestError).status).toBe(409);
    expect((refused as RestError).errorCode).toBe(409);
    expect(await client.getDefaultCompatibility()).toBe('BACKWARD');
    client.close();
  });

  it('keeps its state in the topic as Confluent records', async () => {
    const kafka = new kafkajs.Kafka({ brokers: log.brokers, logLevel: kafkajs.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const [desc] = (
      await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false })
    ).resources;
    await admin.disconnect();
    expect(desc?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue).toBe('compact');
    const consumer = kafka.consumer({ groupId: freshTopic('registry-test-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const keys: string[] = [];
    const values: (string | null)[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          keys.push(message.key?.toString() ?? '');
          values.push(message.value?.toString() ?? null);
          if (keys.includes('{"keytype":"SCHEMA","subject":"client-value","version":1,"magic":1}')) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(keys[0]).toBe('{"keytype":"SCHEMA","subject":"things-value","version":1,"magic":1}');
    expect(JSON.parse(values[0] as string)).toEqual({
      subject: 'things-value',
      version: 1,
      id: expect.any(Number),
      schema: v1,
      deleted: false,
    });
    expect(keys).toContain('{"keytype":"CONFIG","subject":null,"magic":0}');
    expect(keys).toContain('{"keytype":"CONFIG","subject":"things-value","magic":0}');
  });

  it('survives a restart: a new registry on the topic answers the same state and continues the ids', async () => {
    const before = {
      subjects: (await call(reg.url, 'GET', '/subjects')).body,
      latest: (await call(reg.url, 'GET', '/subjects/things-value/versions/latest')).body as { id: number },
      deleted: (await call(reg.url, 'GET', '/subjects?deleted=true')).body,
      config: (await call(reg.url, 'GET', '/config/things-value')).body,
    };
    await reg.close();
    reg = await registryOn(log, topic);
    expect((await call(reg.url, 'GET', '/subjects')).body).toEqual(before.subjects);
    expect((await call(reg.url, 'GET', '/subjects/things-value/versions/latest')).body).toEqual(
      before.latest,
    );
    expect((await call(reg.url, 'GET', '/subjects?deleted=true')).body).toEqual(before.deleted);
    expect((await call(reg.url, 'GET', '/config/things-value')).body).toEqual(before.config);
    const fresh = await call(reg.url, 'POST', '/subjects/after-restart-value/versions', {
      schema: '"double"',
    });
    expect((fresh.body as { id: number }).id).toBeGreaterThan(before.latest.id);
    // Still refuses what it refused before the restart.
    expect(
      (await call(reg.url, 'POST', '/subjects/other-value/versions', { schema: '"string"' })).status,
    ).toBe(409);
  });

  it('gives distinct ids and versions to concurrent registrations', async () => {
    await call(reg.url, 'PUT', '/config/busy-value', { compatibility: 'NONE' });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(reg.url, 'POST', '/subjects/busy-value/versions', {
          schema: record([{ name: `f${i}`, type: 'int' }], 'Busy'),
        }),
      ),
    );
    const bodies = answers.map((a) => a.body as { id: number; version: number });
    expect(new Set(bodies.map((b) => b.id)).size).toBe(8);
    expect(bodies.map((b) => b.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('exposes /metrics', async () => {
    const res = await fetch(`${reg.url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text).toMatch(/promstream_registry_subjects \d+/);
    expect(text).toMatch(/promstream_registry_log_records_total\{outcome="applied"\} \d+/);
  });
});

describe('schema registry without a log', () => {
  it('refuses to start with a 50001 error when the log cannot be reached', async () => {
    const err = await startRegistry({ brokers: ['127.0.0.1:9'], port: 0, topic: 'unreachable' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe(RegistryErrorCode.StoreError);
    expect((err as RegistryError).message).toContain('start the registry');
  });
});
