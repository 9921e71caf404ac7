import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlockCatalog, FsObjectStore, tenantStore } from '@promstream/storage';
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

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'promstream-cli-migrate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('promstream import and export', () => {
  it('imports an OpenMetrics file into a bucket, exports a range to another, and says what it did', async () => {
    const lines = ['# TYPE cli_value gauge'];
    // Four hours from an aligned start: two 2-hour blocks.
    const t0 = 1_700_006_400;
    for (let i = 0; i < 4 * 3600; i += 60) lines.push(`cli_value{k="a"} ${i} ${t0 + i}`);
    lines.push('# EOF');
    const om = path.join(dir, 'in.om');
    await writeFile(om, `${lines.join('\n')}\n`);
    const src = path.join(dir, 'src');
    const imp = await promstream([
      'import',
      'openmetrics',
      om,
      '--store',
      `file://${src}`,
      '--tenant',
      'cli',
      '--no-progress',
    ]);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain('imported 2 blocks (0 already present), 240 samples');
    const blocks = (await new BlockCatalog(tenantStore(new FsObjectStore(src), 'cli')).refresh()).blocks;
    expect(blocks.length).toBe(2);

    const dst = path.join(dir, 'dst');
    const exp = await promstream([
      'export',
      '--store',
      `file://${src}`,
      '--to-store',
      `file://${dst}`,
      '--from',
      `${t0 + 3 * 3600}s`,
      '--no-progress',
    ]);
    expect(exp.code).toBe(0);
    expect(exp.stdout).toContain('exported 1 blocks (0 already present), 120 samples');
    const copied = (await new BlockCatalog(tenantStore(new FsObjectStore(dst), 'cli')).refresh()).blocks;
    expect(copied.map((b) => b.ulid)).toEqual([blocks[1]!.ulid]);
  });

  it('ends with a coded error and status 1 when the source is missing, and 2 without a destination', async () => {
    const missing = await promstream([
      'import',
      'blocks',
      path.join(dir, 'nope'),
      '--store',
      `file://${dir}/x`,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error SOURCE_READ');
    const none = await promstream(['export']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--to-store');
  });
});
