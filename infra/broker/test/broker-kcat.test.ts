import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { announceSkip, findTool } from '@promstream/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, spawnBroker } from './broker/spawn.js';

const kcat = findTool('kcat');
if (kcat === undefined)
  announceSkip('broker with kcat', 'kcat is not installed (infra/scripts/debian-packages.sh installs it)');

function run(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(kcat as string, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The compression codec (attributes bits 0-2) of every batch in a partition's segments. */
function storedCodecs(dataDir: string, topic: string): number[] {
  const dir = path.join(dataDir, `${topic}-0`);
  const codecs: number[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const buf = readFileSync(path.join(dir, f));
    for (let at = 0; at + 61 <= buf.length; at += buf.readInt32BE(at + 8) + 12)
      codecs.push(buf.readInt16BE(at + 21) & 7);
  }
  return codecs;
}

describe.skipIf(kcat === undefined)('promstream broker with kcat (librdkafka)', () => {
  let dir: string;
  let broker: BrokerProcess;
  let address: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'broker-kcat-'));
    broker = await spawnBroker(dir);
    address = `127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    broker.child.kill('SIGTERM');
    await broker.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips lines through kcat with each compression codec, stored compressed', async () => {
    for (const [codec, id] of [
      ['none', 0],
      ['gzip', 1],
      ['snappy', 2],
      ['lz4', 3],
      ['zstd', 4],
    ] as const) {
      const topic = `kcat-${codec}`;
      const lines = Array.from({ length: 50 }, (_, i) => `${codec} line ${i} ${'y'.repeat(40)}`);
      await run(
        ['-P', '-b', address, '-t', topic, '-z', codec, '-X', 'acks=all', '-X', 'linger.ms=50'],
        `${lines.join('\n')}\n`,
      );
      const out = await run(['-C', '-b', address, '-t', topic, '-o', 'beginning', '-e', '-q']);
      expect(out.trim().split('\n'), codec).toEqual(lines);
      const codecs = storedCodecs(dir, topic);
      expect(codecs.length, codec).toBeGreaterThan(0);
      expect(new Set(codecs), codec).toEqual(new Set([id]));
    }
  });

  it('consumes as a member of a group and commits its offsets', async () => {
    const topic = 'kcat-group';
    const lines = Array.from({ length: 20 }, (_, i) => `g${i}`);
    await run(['-P', '-b', address, '-t', topic, '-X', 'acks=all'], `${lines.join('\n')}\n`);
    const out = await run([
      '-b',
      address,
      '-G',
      'kcat-group-1',
      '-X',
      'auto.offset.reset=earliest',
      '-c',
      String(lines.length),
      '-q',
      topic,
    ]);
    expect(out.trim().split('\n')).toEqual(lines);
    const kafka = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: 'kcat-group-1', topics: [topic] });
    await admin.disconnect();
    expect(offsets[0]?.partitions[0]?.offset).toBe(String(lines.length));
  });

  it('lists the broker and its topics in kcat metadata', async () => {
    const out = await run(['-L', '-b', address, '-J']);
    const meta = JSON.parse(out) as {
      brokers: Array<{ id: number; name: string }>;
      topics: Array<{ topic: string }>;
    };
    expect(meta.brokers).toEqual([{ id: 0, name: address }]);
    expect(meta.topics.map((t) => t.topic)).toContain('kcat-gzip');
  });
});
