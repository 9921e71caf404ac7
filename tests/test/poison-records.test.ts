import { announceSkip } from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { BLOCK, logBackends, PARTITIONS, Pipeline, readBlocks, series, WINDOW } from './support/pipeline.js';

// Issue 24 on the real parts: a record with tenant "." written straight onto
// the samples topic (as a client bypassing the gateway would, or a build
// before the tenant rule did) between normal writes. The gateway refuses the
// same tenant with 400; the block builder dead-letters the record with its
// headers, counts it, reports it as an event, and builds the normal writes
// into the same blocks, in the usual time, as on a log without it.

for (const backend of logBackends()) {
  if (!backend.enabled) announceSkip(`poisoned records on ${backend.name}`, backend.reason);
  describe.skipIf(!backend.enabled)(`a poisoned record on ${backend.name}`, () => {
    const pipelines: Pipeline[] = [];
    let stopLog = async () => {};

    afterAll(async () => {
      for (const p of pipelines) await p.close();
      await stopLog();
    });

    test('the sequence of issue 24 builds the same blocks with and without the bad record', async () => {
      const log = await backend.start();
      stopLog = log.stop;
      const clean = await new Pipeline(log.brokers).start();
      const poisoned = await new Pipeline(log.brokers).start();
      pipelines.push(clean, poisoned);
      await clean.startBuilder();
      await poisoned.startBuilder();

      // The gateway refuses tenant "." and writes nothing.
      const before = await poisoned.ends();
      expect(await poisoned.write('.', [series({ __name__: 'x' }, [Date.now()], [1])])).toBe(400);
      expect(await poisoned.ends()).toEqual(before);
      // The same record straight onto the log, one per partition.
      const bad = await poisoned.writeRaw(
        '.',
        Array.from({ length: 8 }, (_, i) => ({
          labels: [{ name: '__name__', value: `poison_${i}` }],
          t: [Date.now()],
          v: [i],
        })),
      );
      expect(new Set(bad.map((b) => b.partition)).size).toBe(PARTITIONS);

      // Twelve writes of 50 series to the default tenant, to both pipelines.
      const written = new Map<string, [number, number][]>();
      let last = 0;
      for (let round = 0; round < 12; round++) {
        const t = Date.now();
        last = t;
        const body = Array.from({ length: 50 }, (_, i) =>
          series({ __name__: 'normal', i: String(i) }, [t], [round]),
        );
        for (const s of body) {
          const key = s.labels.map((l) => `${l.name}=${l.value}`).join(',');
          written.set(key, [...(written.get(key) ?? []), [t, round]]);
        }
        expect(await clean.write(undefined, body)).toBe(204);
        expect(await poisoned.write(undefined, body)).toBe(204);
        await new Promise((r) => setTimeout(r, 150));
      }
      clean.startTicks();
      poisoned.startTicks();
      // The usual time: the range of the last write closes once the clock passes its end by the window.
      const rangeEnd = Math.floor(last / BLOCK) * BLOCK + BLOCK;
      await poisoned.waitForBoundary(last);
      // Record times are wall-clock times here: the cut came within seconds of being due.
      expect(Date.now()).toBeLessThan(rangeEnd + WINDOW + 5000);
      await clean.waitForBoundary(last);

      const got = await readBlocks(poisoned.store, 'anonymous');
      const normal = new Map([...got].filter(([k]) => k.startsWith('__name__=normal')));
      expect(normal).toEqual(written);
      expect(
        new Map(
          [...(await readBlocks(clean.store, 'anonymous'))].filter(([k]) => k.startsWith('__name__=normal')),
        ),
      ).toEqual(written);

      // Every poisoned record is on the dead-letter topic, with its bytes and headers.
      const letters = await poisoned.deadLetters();
      expect(letters).toHaveLength(bad.length);
      for (const l of letters) {
        expect(l.info).toMatchObject({
          topic: poisoned.samplesTopic,
          processor: 'block-builder',
          reason: 'invalid_tenant',
          tenant: '.',
          attempts: 1,
        });
        expect(bad.some((b) => b.partition === l.info.partition && b.value.equals(l.value!))).toBe(true);
      }
      expect((await clean.deadLetters()).length).toBe(0);
      const metrics = await poisoned.builder!.registry.getSingleMetricAsString(
        'promstream_deadletter_records_total',
      );
      expect(metrics).toContain(
        `promstream_deadletter_records_total{processor="block-builder",reason="invalid_tenant"} ${bad.length}`,
      );
      // Each is reported as an event.
      const events = (await poisoned.events(bad.length)).filter((e) => e.kind === 'dead_letter');
      expect(events).toHaveLength(bad.length);
      expect(events[0]!.attributes).toMatchObject({
        processor: 'block-builder',
        reason: 'invalid_tenant',
        tenant: '.',
      });
    }, 150_000);
  });
}
