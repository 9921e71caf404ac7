import { existsSync } from 'node:fs';
import path from 'node:path';
import { announceSkip, repoRoot, startEmbeddedBroker } from '@promstream/testkit';
import { crashSuite, fsTarget } from './support/crash-targets.js';

// The block builder crash scenario (crash-block-builder.test.ts) on the embedded broker.

const built = existsSync(path.join(repoRoot, 'infra', 'dist', 'cli', 'main.js'));
if (!built)
  announceSkip(
    'block builder crash test on the embedded broker',
    'infra is not built (npm test builds it first)',
  );

crashSuite('the embedded broker and a filesystem store', built, async () => {
  const broker = await startEmbeddedBroker();
  if (!broker.ok) throw new Error(broker.reason);
  const t = fsTarget(broker.backend.brokers);
  return {
    target: t.target,
    stop: async () => {
      await t.stop();
      await broker.backend.stop();
    },
  };
});
