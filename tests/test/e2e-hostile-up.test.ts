import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeV1, type WriteSeries } from '@promstream/ingest';
import { BlockReader, listAll, objectStoreFromUrl, ValueType } from '@promstream/storage';
import { announceSkip, freePort, repoRoot, waitForPort } from '@promstream/testkit';
import snappy from 'snappy';
import { afterAll, describe, expect, test } from 'vitest';

// Issue 27 through `promstream up` (the embedded broker, every role in its own process, one front
// address): the hostile requests of the issue, sent between other tenants' writes. Each gets its 4xx
// through the front; the other tenants' acknowledged samples are queryable and land in blocks; the
// gateway's memory stays under a bound; the pipeline's registry subjects refuse the sequence;
// a full disk answers 503 and heals by itself once space returns. Nothing is restarted.

const cli = path.join(repoRoot, 'bin', 'promstream.js');
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
if (!built)
  announceSkip('hostile requests through promstream up', 'infra is not built (npm test builds it first)');

/** A tmpfs for the data directory, so the disk can fill up; undefined (announced) where mount is refused. */
function mountTmpfs(megabytes: number): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'promstream-up-hostile-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    announceSkip(
      'the full-disk step of hostile requests through promstream up',
      `cannot mount a tmpfs (needs root): ${(err as Error).message.split('\n')[0]}`,
    );
    return undefined;
  }
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The pid of the role process of `promstream up` whose command line holds all of `parts`. */
function rolePid(parts: string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (parts.every((p) => cmd.includes(p))) return Number(entry);
  }
  return undefined;
}

function int64Body(t: bigint): Buffer {
  const varint: number[] = [];
  for (let u = BigInt.asUintN(64, t); ; u >>= 7n) {
    if (u < 0x80n) {
      varint.push(Number(u));
      break;
    }
    varint.push(Number(u & 0x7fn) | 0x80);
  }
  const label = Buffer.from([0x0a, 8, ...Buffer.from('__name__'), 0x12, 4, ...Buffer.from('edge')]);
  const sample = Buffer.from([0x10, ...varint]);
  const ts = Buffer.concat([
    Buffer.from([0x0a, label.length]),
    label,
    Buffer.from([0x12, sample.length]),
    sample,
  ]);
  return snappy.compressSync(Buffer.concat([Buffer.from([0x0a, ts.length]), ts]));
}

/** A snappy bomb: one 35-byte series literal, then 64-byte copies of it (see ingest/test/bombs.ts). */
function bomb(compressedBytes: number): Buffer {
  const name = Buffer.from('bomb_value');
  const t = Date.now();
  const varint: number[] = [];
  for (let u = t; ; u = Math.floor(u / 128)) {
    if (u < 128) {
      varint.push(u);
      break;
    }
    varint.push((u % 128) | 0x80);
  }
  const label = Buffer.from([0x0a, 8, ...Buffer.from('__name__'), 0x12, name.length, ...name]);
  const sample = Buffer.from([0x10, ...varint]);
  const s = Buffer.concat([
    Buffer.from([0x0a, label.length]),
    label,
    Buffer.from([0x12, sample.length]),
    sample,
  ]);
  const literal = Buffer.concat([Buffer.from([0x0a, s.length]), s]);
  const copies = Math.floor(compressedBytes / 3);
  const total = literal.length + copies * 64 - ((literal.length + copies * 64) % literal.length);
  const head: number[] = [];
  for (let n = total; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      head.push(n);
      break;
    }
    head.push((n % 128) | 0x80);
  }
  head.push((literal.length - 1) << 2, ...literal);
  const out = Buffer.alloc(head.length + copies * 3);
  Buffer.from(head).copy(out);
  let left = total - literal.length;
  let at = head.length;
  while (left > 0) {
    const n = Math.min(64, left);
    out[at] = ((n - 1) << 2) | 2;
    out[at + 1] = literal.length;
    out[at + 2] = 0;
    at += 3;
    left -= n;
  }
  return out.subarray(0, at);
}

describe.skipIf(!built)('hostile requests through promstream up', () => {
  const tmpfs = mountTmpfs(64);
  const dir = tmpfs ?? mkdtempSync(path.join(tmpdir(), 'promstream-up-hostile-'));
  let up: ChildProcess | undefined;

  afterAll(() => {
    up?.kill('SIGKILL');
    if (tmpfs !== undefined) {
      try {
        execFileSync('umount', ['-l', tmpfs], { stdio: 'pipe' });
      } catch {
        // Gone already.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('every hostile request gets its 4xx, the other tenants lose nothing, nothing is restarted', async () => {
    const port = await freePort();
    const kafkaPort = await freePort();
    const data = path.join(dir, 'data');
    mkdirSync(data, { recursive: true });
    let output = '';
    up = spawn(
      process.execPath,
      [
        cli,
        'up',
        '--data',
        data,
        '--port',
        String(port),
        '--kafka-port',
        String(kafkaPort),
        '--block-duration',
        '10s',
        // Wide enough that a write delayed by a loaded machine is still inside the window.
        '--out-of-order-window',
        '20s',
        '--no-agent',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    up.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    up.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
    await waitForPort('127.0.0.1', port, 90_000);
    for (
      let waited = 0;
      !/registry\s+http:\/\/127\.0\.0\.1:(\d+)/.test(output) && waited < 10_000;
      waited += 50
    )
      await new Promise((r) => setTimeout(r, 50));
    const registryUrl = /registry\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    expect(registryUrl, output.slice(-2000)).toBeDefined();
    const front = `http://127.0.0.1:${port}`;
    const gatewayPid = rolePid(['promstream.js', ' gateway ', `127.0.0.1:${kafkaPort}`]);
    const brokerPid = rolePid(['promstream.js', ' broker ', String(kafkaPort)]);
    expect(gatewayPid).toBeDefined();
    expect(brokerPid).toBeDefined();

    const write = (body: Buffer, tenant: string) =>
      fetch(`${front}/api/v1/write`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-scope-orgid': tenant,
        },
      });
    const series = (prefix: string, n: number, t: number): WriteSeries[] =>
      Array.from({ length: n }, (_, i) => ({
        labels: [{ name: '__name__', value: `${prefix}_${i}` }],
        timestamps: [t],
        values: [i],
        histograms: [],
        exemplars: 0,
      }));
    const body = (s: WriteSeries[]) => snappy.compressSync(Buffer.from(encodeV1(s)));
    // The pipeline starts once its first write has registered the schema and created the topic.
    for (let i = 0; ; i++) {
      const res = await write(body(series('warmup', 1, Date.now())), 'victim');
      if (res.status === 204) break;
      if (i > 100) throw new Error(`the all-in-one takes no write: ${res.status} ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 300));
    }

    // A tick keeps the victim's time moving, so the block builder closes its ranges.
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let ticking = true;
    let tick = 0;
    const ticker = (async () => {
      while (ticking) {
        const res = await write(body(series(`tick${tick++}`, 1, Date.now())), 'victim');
        if (res.status === 204) acknowledged.push(`tick${tick - 1}_0`);
        else failed.push(`${res.status} ${await res.text()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // 1. One far-future sample must not cost the victim anything.
    const t0 = Date.now();
    expect((await write(body(series('before', 20, t0)), 'victim')).status).toBe(204);
    const future = await write(body(series('future', 50, 32_503_680_000_000)), 'attacker');
    expect(future.status).toBe(400);
    expect(await future.text()).toMatch(/^too_far_in_future: 50 samples refused/);
    expect((await write(body(series('after', 20, t0 + 1000)), 'victim')).status).toBe(204);

    // 5. Timestamps beyond 2^53: 400, not a 503 Prometheus would retry forever.
    for (const t of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]) {
      const res = await write(int64Body(t), 'attacker');
      expect(res.status, String(t)).toBe(400);
    }
    // 5. The roles' own 413s come through the front.
    const big = await write(Buffer.alloc(100 * 1024 * 1024), 'attacker');
    expect(big.status).toBe(413);
    expect(await big.text()).toMatch(/^payload_too_large: the request body is larger than the limit/);
    const form = await fetch(`${front}/api/v1/query`, {
      method: 'POST',
      body: `query=${'a'.repeat(10 * 1024 * 1024)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(413);

    // 2. Decompression bombs: refused at once, the gateway's memory stays small.
    for (const [size, status] of [
      [47_000_000, 413],
      [4_700_000, 400],
    ] as const) {
      const payload = bomb(size);
      const base = rssOf(gatewayPid!);
      let peak = base;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(gatewayPid!));
      }, 10);
      const res = await write(payload, 'attacker');
      await res.text();
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(sampler);
      expect(res.status, `${size} byte bomb`).toBe(status);
      expect(peak - base, `gateway RSS ${base} -> ${peak}`).toBeLessThan(400 * 1024 * 1024);
    }

    // 3. The registry sequence on the pipeline's subject: every step refused.
    const subject = 'promstream.samples.v1-value';
    for (const [method, p, b] of [
      ['DELETE', `/subjects/${subject}/versions/1`, undefined],
      ['DELETE', `/subjects/${subject}/versions/1?permanent=true`, undefined],
      ['PUT', `/config/${subject}`, { compatibility: 'NONE' }],
      ['POST', `/subjects/${subject}/versions`, { schema: '"string"' }],
      ['PUT', `/config/${subject}`, { compatibility: 'FULL' }],
    ] as const) {
      const res = await fetch(`${registryUrl}${p}`, {
        method,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      expect({ p, method, status: res.status }).toEqual({ p, method, status: 422 });
    }

    // 4. A full disk: 503 while full, writes again without a restart once space returns.
    if (tmpfs !== undefined) {
      const filler = path.join(tmpfs, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1 << 20, 1);
      try {
        for (let left = statfsSync(tmpfs).bavail * statfsSync(tmpfs).bsize; left > 0; left -= chunk.length)
          writeSync(fd, chunk);
      } catch {
        // Full.
      } finally {
        closeSync(fd);
      }
      let refused: Response | undefined;
      for (let i = 0; i < 50 && refused === undefined; i++) {
        const res = await write(body(series(`full${i}`, 50, Date.now())), 'filler');
        if (res.status === 503) refused = res;
        else await res.text();
      }
      expect(refused?.status).toBe(503);
      rmSync(filler);
      const freed = Date.now();
      let healed = false;
      while (!healed && Date.now() - freed < 30_000) {
        const res = await write(body(series('healed', 1, Date.now())), 'filler');
        healed = res.status === 204;
        await res.text();
        if (!healed) await new Promise((r) => setTimeout(r, 200));
      }
      expect(healed).toBe(true);
      expect(Date.now() - freed).toBeLessThan(10_000);
      // The ticker's writes that met the full disk were answered 503 (to be retried), nothing else.
      for (const f of failed) expect(f).toMatch(/^503 /);
      failed.length = 0;
    }

    // Everything the victim was acknowledged is queryable.
    const query = async (q: string) => {
      const res = await fetch(`${front}/api/v1/query?query=${encodeURIComponent(q)}`, {
        headers: { 'x-scope-orgid': 'victim' },
      });
      const json = (await res.json()) as { data?: { result: { value: [number, string] }[] } };
      return Number(json.data?.result[0]?.value[1] ?? 0);
    };
    for (const prefix of ['before', 'after']) {
      let count = 0;
      for (let i = 0; i < 60 && count < 20; i++) {
        count = await query(`count({__name__=~"${prefix}_.*"})`);
        if (count < 20) await new Promise((r) => setTimeout(r, 500));
      }
      expect(count, prefix).toBe(20);
    }

    // ...and lands in blocks: the ranges of t0 close as the ticks move time on.
    const store = objectStoreFromUrl(`file://${path.join(data, 'blocks')}`);
    const inBlocks = new Set<string>();
    const deadline = Date.now() + 120_000;
    const wanted = ['before', 'after'].flatMap((p) => Array.from({ length: 20 }, (_, i) => `${p}_${i}`));
    // Each partition closes its range once its own time has moved on: wait for all of them.
    const allIn = () => wanted.every((n) => inBlocks.has(n));
    while (Date.now() < deadline && !allIn()) {
      for (const meta of (await listAll(store, 'victim/', { recursive: true })).filter((o) =>
        o.key.endsWith('/meta.json'),
      )) {
        const reader = await BlockReader.open(store, meta.key.slice(0, -'/meta.json'.length));
        const all = [{ type: '=~' as const, name: '__name__', value: '.+', matches: () => true }];
        for (const s of await reader.select(all, -Infinity, Infinity)) {
          const it = s.iterator();
          if (it.next() === ValueType.Float) inBlocks.add(s.labels.find((l) => l.name === '__name__')!.value);
        }
      }
      if (!allIn()) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(wanted.filter((n) => !inBlocks.has(n))).toEqual([]);
    ticking = false;
    await ticker;
    expect(failed).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Nothing was restarted: the same gateway and broker processes served it all.
    expect(rolePid(['promstream.js', ' gateway ', `127.0.0.1:${kafkaPort}`])).toBe(gatewayPid);
    expect(rolePid(['promstream.js', ' broker ', String(kafkaPort)])).toBe(brokerPid);
    up.kill('SIGTERM');
  }, 300_000);
});
