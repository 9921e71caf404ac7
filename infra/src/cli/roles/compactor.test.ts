import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlockCatalog, FsObjectStore, SeriesChunker, tenantStore, writeBlock } from '@promstream/storage';
import { repoRoot } from '@promstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs the command line from source (no build needed), as `promstream <args>`. */
function promstream(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = path.join(repoRoot, 'infra', 'src', 'cli', 'main.ts');
  const script = `import(${JSON.stringify(main)}).then((m) => m.main(process.argv.slice(1))).catch((e) => { console.error(e.message); process.exit(1); });`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@promstream/source', '--import', 'tsx', '-e', script, ...args],
      { cwd: repoRoot },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
      },
    );
  });
}

const H = 3600 * 1000;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'promstream-cli-compactor-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function seed(store: FsObjectStore, hours: number): Promise<void> {
  for (let from = 0; from < hours * H; from += 2 * H) {
    const ch = new SeriesChunker(2 * H);
    for (let t = from; t < from + 2 * H; t += 60_000) ch.append(t, t / 1000);
    ch.flush();
    await writeBlock(store, 'tenant-a', [{ labels: [{ name: '__name__', value: 'x' }], chunks: ch.chunks }], {
      minTime: from,
      maxTime: from + 2 * H,
    });
  }
}

async function live(store: FsObjectStore): Promise<number[][]> {
  const snap = await new BlockCatalog(tenantStore(store, 'tenant-a')).refresh();
  return snap.all
    .filter((b) => b.deletionMark === undefined)
    .map((b) => [b.resolution, b.meta.minTime / H, b.meta.maxTime / H])
    .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
}

describe('promstream compactor', () => {
  it('--once compacts, downsamples and applies retention per resolution, then exits', async () => {
    const root = path.join(dir, 'bucket');
    const store = new FsObjectStore(root);
    await seed(store, 10);
    const args = [
      'compactor',
      '--store',
      `file://${root}`,
      '--once',
      '--levels',
      '2h,8h',
      '--log-level',
      'silent',
    ];
    const r = await promstream([...args, '--downsample-5m-from', '8h', '--delete-delay', '0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await live(store)).toEqual([
      [0, 0, 8],
      [0, 8, 10],
      [300000, 0, 8],
    ]);
    // Raw data from 1970 is far past a one-day retention; the 5m block stays (0 keeps forever).
    const r2 = await promstream([...args, '--retention.resolution-raw', '1d', '--delete-delay', '0']);
    expect(r2.code).toBe(0);
    expect(await live(store)).toEqual([[300000, 0, 8]]);
  });

  it('refuses a bad duration with the flag named', async () => {
    const r = await promstream([
      'compactor',
      '--store',
      `file://${dir}/x`,
      '--once',
      '--delete-delay',
      'soon',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^--delete-delay: not a duration/);
  });
});
