/**
 * What one hostile remote-write request costs everyone else. The gateway
 * runs as its own process (`promstream gateway`, as `promstream up` runs it)
 * on the embedded broker; three tenants write 50 series each, back to back,
 * while one snappy decompression bomb is sent (a 35-byte series literal
 * followed by back-references, see test/bombs.ts). Prints, per bomb: its
 * answer and how long it took, the gateway's RSS before and at its peak, and
 * the latency and failures of the other tenants' writes from the bomb's
 * start to one second after its answer (or for 60 s when the gateway dies).
 *
 *   npm run bench:hostile -w @promstream/ingest
 *   BENCH_BOMBS=4700000,47000000 (compressed sizes in bytes) overrides the bombs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { startRegistry } from '@promstream/schemas';
import { freePort, repoRoot, startEmbeddedBroker, waitForPort } from '@promstream/testkit';
import pino from 'pino';
import snappy from 'snappy';
import { bombOfSize } from '../../test/bombs.js';
import type { WriteSeries } from '../remote-write/types.js';
import { encodeV1 } from '../remote-write/v1.js';

const BOMBS = (process.env.BENCH_BOMBS ?? '4700000,47000000').split(',').map(Number);
const TENANTS = ['victim-a', 'victim-b', 'victim-c'];

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Write {
  start: number;
  ms: number;
  status: number | string;
}

async function startGatewayProcess(brokers: string[], registryUrl: string) {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'bin', 'promstream.js'),
      'gateway',
      '--brokers',
      brokers.join(','),
      '--registry',
      registryUrl,
      '--port',
      String(port),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  await waitForPort('127.0.0.1', port, 30_000);
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

async function main() {
  const picked = await startEmbeddedBroker();
  if (!picked.ok) throw new Error(picked.reason);
  const broker = picked.backend;
  const registry = await startRegistry({
    brokers: broker.brokers,
    port: await freePort(),
    logger: pino({ level: 'silent' }),
  });
  console.log(
    `hostile writes: load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1/5/15 min)`,
  );
  try {
    for (const size of BOMBS) {
      const gateway = await startGatewayProcess(broker.brokers, registry.url);
      const pid = gateway.child.pid!;
      let exit: string | undefined;
      gateway.child.once('exit', (code, signal) => {
        exit = `exited with ${code ?? signal}`;
      });
      const writes: Write[] = [];
      let running = true;
      let seq = 0;
      const writer = async (tenant: string) => {
        while (running) {
          const t = Date.now();
          const series: WriteSeries[] = Array.from({ length: 50 }, (_, i) => ({
            labels: [
              { name: '__name__', value: 'bench_victim' },
              { name: 'i', value: String(i) },
              { name: 'seq', value: String(seq++) },
            ],
            timestamps: [t],
            values: [1],
            histograms: [],
            exemplars: 0,
          }));
          const body = snappy.compressSync(Buffer.from(encodeV1(series)));
          const start = performance.now();
          let status: number | string;
          try {
            const res = await fetch(`${gateway.url}/api/v1/write`, {
              method: 'POST',
              body,
              headers: {
                'content-type': 'application/x-protobuf',
                'content-encoding': 'snappy',
                'x-scope-orgid': tenant,
              },
              signal: AbortSignal.timeout(30_000),
            });
            status = res.status;
            await res.arrayBuffer();
          } catch (err) {
            status = ((err as Error).cause as { code?: string } | undefined)?.code ?? (err as Error).name;
            await new Promise((r) => setTimeout(r, 100));
          }
          writes.push({ start, ms: performance.now() - start, status });
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const writers = TENANTS.map(writer);
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssBytes(pid));
      }, 20);
      await new Promise((r) => setTimeout(r, 3000));
      const before = rssBytes(pid);
      peak = before;
      const { body, series } = bombOfSize(size, Date.now());
      const bombStart = performance.now();
      let answer: string;
      try {
        const res = await fetch(`${gateway.url}/api/v1/write`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-scope-orgid': 'attacker',
          },
          signal: AbortSignal.timeout(120_000),
        });
        answer = `${res.status} ${(await res.text()).trim().slice(0, 160)}`;
      } catch (err) {
        answer = `no answer: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`;
      }
      const bombMs = performance.now() - bombStart;
      const windowEnd = exit === undefined ? performance.now() + 1000 : performance.now() + 60_000;
      while (performance.now() < windowEnd) await new Promise((r) => setTimeout(r, 100));
      running = false;
      await Promise.all(writers);
      clearInterval(sampler);
      const during = writes.filter((w) => w.start + w.ms >= bombStart && w.start <= windowEnd);
      const lat = during.map((w) => w.ms).sort((a, b) => a - b);
      const failures = new Map<string, number>();
      for (const w of during)
        if (w.status !== 204) failures.set(String(w.status), (failures.get(String(w.status)) ?? 0) + 1);
      console.log(
        [
          `bomb ${(body.length / 1e6).toFixed(1)} MB -> ${((series * 35) / 1e6).toFixed(0)} MB, ${series} series`,
          `  answer after ${bombMs.toFixed(0)} ms: ${answer}`,
          `  gateway RSS ${(before / 1e6).toFixed(0)} MB before, peak ${(peak / 1e6).toFixed(0)} MB${exit === undefined ? '' : `; gateway ${exit}`}`,
          `  other tenants' writes meanwhile: ${during.length}, p50 ${quantile(lat, 0.5).toFixed(1)} ms, p99 ${quantile(lat, 0.99).toFixed(1)} ms, max ${(lat.at(-1) ?? Number.NaN).toFixed(1)} ms, failed ${[...failures].map(([k, v]) => `${v}x ${k}`).join(', ') || 0}`,
        ].join('\n'),
      );
      gateway.child.kill('SIGKILL');
    }
  } finally {
    await registry.close();
    await broker.stop();
  }
}

await main();
