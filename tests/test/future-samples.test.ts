import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { serveBlocks } from '@promstream/query';
import { announceSkip, freePort } from '@promstream/testkit';
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { BLOCK, logBackends, Pipeline, readBlocks, series, WINDOW } from './support/pipeline.js';

// Issue 27, part 1, on the consumer side: a sample in the year 3000 written
// straight onto the log (the gateway's own refusal is not in play) between
// two writes of another tenant. The partition clock is the log's time, so
// the far-future sample moves nothing: every victim sample is queryable
// through the head and lands in blocks, the attacker's samples are
// dead-lettered and counted, the committed offset moves on, and a restart of
// the block builder changes nothing.

const YEAR_3000 = 32_503_680_000_000;

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

for (const backend of logBackends()) {
  if (!backend.enabled) announceSkip(`far-future samples on ${backend.name}`, backend.reason);
  describe.skipIf(!backend.enabled)(`a far-future sample on ${backend.name}`, () => {
    let pipeline: Pipeline | undefined;
    let stopLog = async () => {};
    let closeQuery = async () => {};

    afterAll(async () => {
      await closeQuery();
      await pipeline?.close();
      await stopLog();
    });

    test('moves no other tenant’s watermark; it is dead-lettered and counted, and a restart changes nothing', async () => {
      const log = await backend.start();
      stopLog = log.stop;
      const p = await new Pipeline(log.brokers).start();
      pipeline = p;
      await p.startBuilder();
      const query = await serveBlocks({
        store: p.store,
        port: await freePort(),
        brokers: log.brokers,
        registryUrl: p.registry.url,
        samplesTopic: p.samplesTopic,
        catalogRefreshMs: 500,
        headRules: {
          blockDuration: BLOCK,
          outOfOrderWindow: WINDOW,
          futureGrace: 600_000,
          backfillIdle: 2000,
        },
        logger: pino({ level: 'silent' }),
      });
      closeQuery = () => query.close();
      const count = async (expr: string) => {
        const res = await fetch(
          `${query.url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${Date.now() / 1000}`,
          {
            headers: { 'x-scope-orgid': 'victim', 'x-read-consistency': 'strong' },
          },
        );
        const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
        return Number(body.data.result[0]?.value[1] ?? 0);
      };

      const before = Date.now();
      const victimBefore = Array.from({ length: 20 }, (_, i) =>
        series({ __name__: `before_${i}` }, [before], [i]),
      );
      expect(await p.write('victim', victimBefore)).toBe(204);
      const attack = await p.writeRaw(
        'attacker',
        Array.from({ length: 50 }, (_, i) => ({
          labels: [{ name: '__name__', value: `attack_${i}` }],
          t: [YEAR_3000],
          v: [i],
        })),
      );
      const after = Date.now();
      const victimAfter = Array.from({ length: 20 }, (_, i) =>
        series({ __name__: `after_${i}` }, [after], [i]),
      );
      expect(await p.write('victim', victimAfter)).toBe(204);

      // Through the head, before any block: every victim sample.
      expect(await count('count({__name__=~"after_.*"})')).toBe(20);
      expect(await count('count({__name__=~"before_.*"})')).toBe(20);

      // Into blocks in the usual time.
      p.startTicks();
      await p.waitForBoundary(after);
      const blocks = await readBlocks(p.store, 'victim');
      for (const s of [...victimBefore, ...victimAfter])
        expect(blocks.get(`__name__=${s.labels[0]!.value}`), s.labels[0]!.value).toEqual([
          [s.timestamps[0], s.values[0]],
        ]);
      expect(await readBlocks(p.store, 'attacker')).toEqual(new Map());
      // Still queryable once the head dropped them (the blocks answer).
      await new Promise((r) => setTimeout(r, 6000));
      expect(await count('count({__name__=~"after_.*"})')).toBe(20);

      // The attacker's records are dead-lettered whole, their samples counted.
      const letters = await p.deadLetters();
      expect(letters.length).toBe(attack.length);
      for (const l of letters)
        expect(l.info).toMatchObject({ reason: 'sample_too_far_future', samples: 1, tenant: 'attacker' });
      const dropped = await p.builder!.registry.getSingleMetricAsString(
        'promstream_block_builder_samples_dropped_total',
      );
      expect(dropped).toContain('promstream_block_builder_samples_dropped_total{reason="too_far_future"} 50');
      const dead = await p.builder!.registry.getSingleMetricAsString('promstream_deadletter_samples_total');
      expect(dead).toContain(
        'promstream_deadletter_samples_total{processor="block-builder",reason="sample_too_far_future"} 50',
      );

      // The committed offsets moved past the attacker's records.
      for (const l of letters) {
        const s = p.builder!.status().find((x) => x.partition === l.info.partition)!;
        expect(s.committed).toBeGreaterThan(l.info.offset);
        expect(s.clock).toBeLessThan(Date.now() + 1000);
      }

      // A restart changes nothing: the same files, no second dead letter.
      p.stopTicks();
      await new Promise((r) => setTimeout(r, 1000));
      await p.builder!.stop();
      const snapshot = files(p.dir);
      await p.startBuilder();
      p.startTicks();
      await p.waitForBoundary(Date.now() - 500);
      p.stopTicks();
      const again = files(p.dir);
      for (const [file, bytes] of snapshot) {
        // Partition states move on with the ticks; blocks never change.
        if (file.startsWith('_promstream/')) continue;
        expect(again.get(file), file).toBe(bytes);
      }
      expect((await p.deadLetters()).length).toBe(attack.length);
      const victim = await readBlocks(p.store, 'victim');
      for (const pts of victim.values()) expect(new Set(pts.map(([t]) => t)).size).toBe(pts.length);
    }, 180_000);
  });
}
