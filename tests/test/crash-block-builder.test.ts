import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FAULT_ENV } from '@promstream/infra';
import { announceSkip, realKafka, repoRoot } from '@promstream/testkit';
import { describe, expect, test } from 'vitest';
import { crashSuite, fsTarget } from './support/crash-targets.js';

// The block builder runs as `promstream block-builder` in child processes,
// each armed with one fault point (PROMSTREAM_FAULT) where exactly-once can
// break, and is killed there with SIGKILL while the load keeps coming: after
// a block's upload and before its state, after the state and before the
// commit, between a block's files, while the group rebalances, and after a
// dead letter and before its commit. Every written sample must then be in
// the blocks exactly once, with its value. The S3 and embedded-broker runs
// are in their own files so they run beside this one.

const cli = path.join(repoRoot, 'bin', 'promstream.js');
const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
const kafka = realKafka();
if (!built) announceSkip('block builder crash test', 'infra is not built (npm test builds it first)');
else if (!kafka.ok) announceSkip('block builder crash test on Apache Kafka', kafka.reason);

describe.skipIf(!built)('fault points of promstream block-builder', () => {
  test('a fault point that is not one is refused at start, naming the points', () => {
    const out = spawnSync(process.execPath, [cli, 'block-builder', '--brokers', '127.0.0.1:1'], {
      env: { ...process.env, [FAULT_ENV]: 'after-lunch:1' },
      encoding: 'utf8',
      // Starting node and loading the role takes seconds on a loaded machine.
      timeout: 120_000,
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain(
      'after-upload, after-state, mid-block, mid-multipart, rebalance, after-deadletter',
    );
  }, 150_000);
});

crashSuite('Apache Kafka and a filesystem store', built && kafka.ok, async () =>
  fsTarget(kafka.ok ? kafka.backend.brokers : []),
);
