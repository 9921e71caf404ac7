import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeV1 } from '@promstream/ingest';
import { freePort, waitForPort } from '@promstream/testkit';
import snappy from 'snappy';
import type { DecodedBatch } from '../block-builder/seams.js';

/**
 * The reference for the rollups benchmark: vmagent's stream aggregation on
 * the same rules and the same samples, sent to it as remote-write 1.0
 * requests. Its CPU time is read from /proc before and after the measured
 * requests; it includes decoding the requests, which the promstream figure
 * does not (README.md, "Benchmark").
 */

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function requests(batches: DecodedBatch[]): Buffer[] {
  return batches.map((b) =>
    snappy.compressSync(
      Buffer.from(
        encodeV1(
          b.series.map((s) => ({
            labels: [...s.labels],
            timestamps: Array.from(s.t),
            values: Array.from(s.v),
            histograms: [],
            exemplars: 0,
          })),
        ),
      ),
    ),
  );
}

async function post(url: string, body: Buffer): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' },
  });
  if (res.status >= 300) throw new Error(`vmagent answered ${res.status}: ${await res.text()}`);
}

/**
 * Runs vmagent over the warm-up and steady batches; returns its CPU seconds
 * for the steady ones, or a reason it could not run.
 */
export async function vmagentCpuSeconds(
  bin: string,
  rules: string,
  warm: DecodedBatch[],
  steady: DecodedBatch[],
): Promise<{ ok: true; seconds: number } | { ok: false; reason: string }> {
  if (!existsSync(bin)) return { ok: false, reason: `no vmagent at ${bin}` };
  const dir = mkdtempSync(path.join(tmpdir(), 'rollups-vmagent-'));
  // A sink for the aggregates vmagent forwards.
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as AddressInfo).port;
  const port = await freePort();
  writeFileSync(path.join(dir, 'aggr.yml'), rules);
  let child: ChildProcess | undefined;
  try {
    child = spawn(
      bin,
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-remoteWrite.url=http://127.0.0.1:${sinkPort}/`,
        `-remoteWrite.tmpDataPath=${path.join(dir, 'tmp')}`,
        `-streamAggr.config=${path.join(dir, 'aggr.yml')}`,
        '-loggerLevel=ERROR',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await waitForPort('127.0.0.1', port, 30_000);
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    for (const body of requests(warm)) await post(url, body);
    const bodies = requests(steady);
    const before = cpuSeconds(child.pid!);
    // Two requests in flight, as a remote-write sender with two shards.
    for (let i = 0; i < bodies.length; i += 2)
      await Promise.all(bodies.slice(i, i + 2).map((b) => post(url, b)));
    return { ok: true, seconds: cpuSeconds(child.pid!) - before };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  } finally {
    child?.kill('SIGKILL');
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
