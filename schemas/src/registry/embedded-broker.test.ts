import { announceSkip, type LogBackend, startEmbeddedBroker } from '@promstream/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleBatch } from '../../test/fixtures.js';
import { call, freshTopic, registryOn } from '../../test/registry-helpers.js';
import { createSerdes } from '../serde.js';
import { TOPICS } from '../topics.js';

const picked = await startEmbeddedBroker();
if (!picked.ok) announceSkip('schema registry on the embedded broker', picked.reason);

describe.skipIf(!picked.ok)('schema registry on the embedded broker', () => {
  const broker = (picked as { backend: LogBackend }).backend;
  afterAll(async () => {
    await broker?.stop();
  });

  it('registers, refuses a change of a pipeline subject, serves the serde, and survives a restart', async () => {
    const topic = freshTopic();
    let reg = await registryOn(broker, topic);
    try {
      const serdes = createSerdes({ registryUrl: reg.url });
      const bytes = await serdes.serialize(TOPICS.samples, sampleBatch);
      expect(await serdes.deserialize(TOPICS.samples, bytes)).toEqual(sampleBatch);
      const refused = await call(reg.url, 'POST', `/subjects/${TOPICS.samples}-value/versions`, {
        schema: '"string"',
      });
      // A subject of the pipeline is read-only: 42205 before any compatibility check.
      expect(refused).toMatchObject({ status: 422, body: { error_code: 42205 } });
      await call(reg.url, 'PUT', '/config/x-value', { compatibility: 'FULL' });
      await reg.close();

      reg = await registryOn(broker, topic);
      expect(
        (await call(reg.url, 'GET', `/subjects/${TOPICS.samples}-value/versions/latest`)).body,
      ).toMatchObject({
        version: 1,
        id: bytes.readUInt32BE(1),
      });
      expect((await call(reg.url, 'GET', '/config/x-value')).body).toEqual({ compatibilityLevel: 'FULL' });
      const reader = createSerdes({ registryUrl: reg.url, autoRegister: false });
      expect(await reader.deserialize(TOPICS.samples, bytes)).toEqual(sampleBatch);
    } finally {
      await reg.close();
    }
  });
});
