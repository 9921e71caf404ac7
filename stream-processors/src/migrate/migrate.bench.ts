/**
 * Import and export rates, in samples/s: promtool-created blocks into a
 * filesystem bucket (and S3 when S3_ENDPOINT is set), OpenMetrics straight
 * into blocks, and bucket-to-bucket export. The reference is Prometheus
 * 3.16's promtool (`tsdb create-blocks-from openmetrics` over the same file),
 * found by testkit's prometheusReference.
 * Shape: SERIES series (default 500) x 6 h at a 15 s interval.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore, objectStoreFromUrl } from '@promstream/storage';
import { prometheusReference } from '@promstream/testkit';
import { exportBlocks } from './export-blocks.js';
import { importBlocks } from './import-blocks.js';
import { importOpenMetrics } from './import-openmetrics.js';

const SERIES = Number(process.env.SERIES ?? 500);
const T0 = 1_700_000_000;
const dir = await mkdtemp(join(tmpdir(), 'promstream-migrate-bench-'));
try {
  const lines = ['# TYPE bench_value gauge'];
  for (let s = 0; s < SERIES; s++) {
    for (let i = 0; i < 6 * 3600; i += 15)
      lines.push(`bench_value{series="${s}",job="bench"} ${(i * s) % 1009} ${T0 + i}`);
  }
  lines.push('# EOF');
  const om = join(dir, 'bench.om');
  await writeFile(om, `${lines.join('\n')}\n`);
  const samples = lines.length - 2;
  console.log(`shape: ${SERIES} series x ${6 * 240} samples = ${samples} samples`);

  const rate = (n: number, s: number): string => `${Math.round(n / s).toLocaleString('en')} samples/s`;
  let reference: number | undefined;
  const promtool = prometheusReference();
  if (promtool.ok) {
    const t = performance.now();
    execFileSync(
      promtool.backend.promtool,
      ['tsdb', 'create-blocks-from', 'openmetrics', om, join(dir, 'blocks')],
      {
        stdio: 'pipe',
      },
    );
    reference = (performance.now() - t) / 1000;
    console.log(
      `promtool ${promtool.backend.version} create-blocks-from openmetrics (reference): ${reference.toFixed(2)} s, ${rate(samples, reference)}`,
    );
  } else console.log(`no reference promtool (${promtool.reason}); no block import figures`);

  if (reference !== undefined) {
    const r = await importBlocks(join(dir, 'blocks'), new FsObjectStore(join(dir, 'bucket')), {
      tenant: 'b',
    });
    console.log(
      `import blocks -> filesystem bucket: ${r.seconds.toFixed(2)} s, ${rate(r.samples, r.seconds)}`,
    );
    if (process.env.S3_ENDPOINT !== undefined && process.env.S3_BUCKET !== undefined) {
      // The store reads no environment: the bench hands it the reference server's settings.
      const s3 = objectStoreFromUrl(`s3://${process.env.S3_BUCKET}/migrate-bench-${Date.now()}`, {
        endpoint: process.env.S3_ENDPOINT,
        region: process.env.S3_REGION,
        accessKeyId: process.env.S3_ACCESS_KEY_ID,
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
      });
      const r3 = await importBlocks(join(dir, 'blocks'), s3, { tenant: 'b' });
      console.log(`import blocks -> S3: ${r3.seconds.toFixed(2)} s, ${rate(r3.samples, r3.seconds)}`);
    }
  }
  const o = await importOpenMetrics(om, new FsObjectStore(join(dir, 'bucket-om')), { tenant: 'o' });
  console.log(
    `import openmetrics -> filesystem bucket: ${o.seconds.toFixed(2)} s, ${rate(o.samples, o.seconds)}` +
      (reference === undefined ? '' : ` (ratio to promtool ${(reference / o.seconds).toFixed(2)}x)`),
  );
  const e = await exportBlocks(
    new FsObjectStore(join(dir, 'bucket-om')),
    new FsObjectStore(join(dir, 'bucket-copy')),
  );
  console.log(`export filesystem -> filesystem: ${e.seconds.toFixed(2)} s, ${rate(e.samples, e.seconds)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
