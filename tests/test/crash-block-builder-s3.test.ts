import { existsSync } from 'node:fs';
import path from 'node:path';
import { announceSkip, realKafka, realS3, repoRoot } from '@promstream/testkit';
import { crashSuite, s3Target } from './support/crash-targets.js';

// The block builder crash scenario (crash-block-builder.test.ts) on the S3
// server, where the mid-upload kill lands between the parts of a multipart upload.

const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
const kafka = realKafka();
const s3 = realS3();
if (!built) announceSkip('block builder crash test on S3', 'infra is not built (npm test builds it first)');
else if (!kafka.ok) announceSkip('block builder crash test on Apache Kafka and S3', kafka.reason);
else if (!s3.ok) announceSkip('block builder crash test on the S3 server', s3.reason);

crashSuite('Apache Kafka and the S3 server (multipart uploads)', built && kafka.ok && s3.ok, async () => {
  if (!kafka.ok || !s3.ok) throw new Error('unreachable: the suite is skipped');
  return s3Target(kafka.backend.brokers, s3.backend);
});
