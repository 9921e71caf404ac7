import { execFile } from 'node:child_process';
import path from 'node:path';
import { announceSkip, repoRoot } from '@promstream/testkit';
import { afterAll, describe, expect, test } from 'vitest';
import { FaultyRegistry, logBackends, Pipeline, readBlocks, series } from './support/pipeline.js';

// Issue 27, part 3, on the consumer side: records whose schema id the
// registry does not have, or resolves to a wrong schema, are never skipped
// and committed past: the block builder checks them again a few times, then
// dead-letters them; once the registry answers right again, records decode
// (no failed answer stays cached), and `promstream deadletter replay`
// re-drives the dead letters, whose samples then land in blocks.

/** Runs the command line from source, as `promstream <args>`. */
function promstream(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
      { cwd: repoRoot },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
}

/** Ten series of one name prefix at one time. */
function batch(prefix: string, t: number) {
  return Array.from({ length: 10 }, (_, i) => series({ __name__: `${prefix}_${i}` }, [t], [i]));
}

async function until<T>(
  what: string,
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${timeoutMs} ms (${JSON.stringify(v).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const backend of logBackends()) {
  if (!backend.enabled) announceSkip(`schema resolution failures on ${backend.name}`, backend.reason);
  describe.skipIf(!backend.enabled)(`schema resolution failures on ${backend.name}`, () => {
    let pipeline: Pipeline | undefined;
    let proxy: FaultyRegistry | undefined;
    let stopLog = async () => {};

    afterAll(async () => {
      await pipeline?.close();
      await proxy?.close();
      await stopLog();
    });

    test('are dead-lettered, never skipped; records decode once the schema is back, and a replay puts them in blocks', async () => {
      const log = await backend.start();
      stopLog = log.stop;
      const p = await new Pipeline(log.brokers, {
        builderRegistryUrl: () => proxy!.url,
        backfillIdle: 2000,
      }).start();
      pipeline = p;
      proxy = await new FaultyRegistry(p.registry.url).start();

      // The registry has no schema for the records' id.
      proxy.mode = 'missing';
      const t1 = Date.now();
      const first = await p.ends();
      expect(await p.write(undefined, batch('unknown', t1))).toBe(204);
      const second = await p.ends();
      await p.startBuilder();
      const unknown = await until(
        'dead letters of the unknown id',
        () => p.deadLetters(),
        (l) => l.length === second.reduce((n, e, i) => n + e - first[i]!, 0),
      );
      for (const l of unknown) {
        expect(l.info).toMatchObject({ reason: 'schema_unknown_id', attempts: 2 });
        expect(l.info.offset).toBeGreaterThanOrEqual(first[l.info.partition]!);
        expect(l.info.offset).toBeLessThan(second[l.info.partition]!);
      }
      // Every record of the write is there: none was skipped and committed past.
      expect(new Set(unknown.map((l) => `${l.info.partition}/${l.info.offset}`)).size).toBe(unknown.length);

      // The id now resolves to another schema ("string").
      proxy.mode = 'string';
      const t2 = Date.now();
      expect(await p.write(undefined, batch('wrong', t2))).toBe(204);
      const third = await p.ends();
      const wrong = (
        await until(
          'dead letters of the wrong schema',
          () => p.deadLetters(),
          (l) => l.length === unknown.length + third.reduce((n, e, i) => n + e - second[i]!, 0),
        )
      ).filter((l) => l.info.reason === 'schema_mismatch');
      expect(wrong.length).toBe(third.reduce((n, e, i) => n + e - second[i]!, 0));
      for (const l of wrong) expect(l.info.message).toMatch(/resolve schema/);

      // The schema is back: new records decode, no failed resolution was kept.
      proxy.mode = 'pass';
      const t3 = Date.now();
      expect(await p.write(undefined, batch('back', t3))).toBe(204);
      p.startTicks();
      await p.waitForBoundary(t3);
      let blocks = await readBlocks(p.store, 'anonymous');
      for (let i = 0; i < 10; i++) expect(blocks.get(`__name__=back_${i}`)).toEqual([[t3, i]]);
      for (let i = 0; i < 10; i++) expect(blocks.has(`__name__=unknown_${i}`)).toBe(false);
      const committed = p.builder!.status();
      for (const l of [...unknown, ...wrong])
        expect(committed.find((s) => s.partition === l.info.partition)!.committed).toBeGreaterThan(
          l.info.offset,
        );

      // The command line shows the letters with their headers and re-drives them.
      const list = await promstream([
        'deadletter',
        'list',
        '--brokers',
        log.brokers.join(','),
        '--topic',
        p.deadLetterTopic,
      ]);
      expect(list.stderr).toBe('');
      expect(list.stdout).toContain(`${unknown.length + wrong.length} dead letters`);
      expect(list.stdout).toContain(
        `${p.samplesTopic} ${unknown[0]!.info.partition}@${unknown[0]!.info.offset}`,
      );
      expect(list.stdout).toContain('processor block-builder, reason schema_unknown_id, attempts 2');
      const replay = await promstream([
        'deadletter',
        'replay',
        '--brokers',
        log.brokers.join(','),
        '--topic',
        p.deadLetterTopic,
        '--processor',
        'block-builder',
      ]);
      expect(replay.stderr).toBe('');
      expect(replay.stdout).toContain(`re-drove ${unknown.length + wrong.length} records`);
      // Their samples, old by now, are placed as backfill and land in blocks.
      blocks = await until(
        'the replayed samples in blocks',
        () => readBlocks(p.store, 'anonymous'),
        (b) =>
          Array.from({ length: 10 }, (_, i) => [`unknown_${i}`, `wrong_${i}`])
            .flat()
            .every((n) => b.has(`__name__=${n}`)),
      );
      for (let i = 0; i < 10; i++) {
        expect(blocks.get(`__name__=unknown_${i}`)).toEqual([[t1, i]]);
        expect(blocks.get(`__name__=wrong_${i}`)).toEqual([[t2, i]]);
      }
      // Replayed records decoded: nothing new on the dead-letter topic.
      expect((await p.deadLetters()).length).toBe(unknown.length + wrong.length);
    }, 180_000);
  });
}
