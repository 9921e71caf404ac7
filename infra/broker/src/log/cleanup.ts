import type { Logger } from 'pino';
import { compactPartition } from './compaction.js';
import type { PartitionLog } from './partition-log.js';
import { TOPIC_CONFIG_DEFAULTS, type TopicStore } from './topics.js';

/**
 * One cleanup pass over every topic: retention on the partitions of topics
 * with the delete policy, compaction on those with the compact policy.
 * `compactedAt` remembers each partition's next offset at its last
 * compaction, so a partition is compacted again only after an append.
 */
export function enforceCleanup(
  topics: TopicStore,
  compactedAt: WeakMap<PartitionLog, number>,
  now: number,
  log: Logger,
): void {
  for (const t of topics.topics.values()) {
    const policy = (t.configs['cleanup.policy'] ?? 'delete').split(',').map((s) => s.trim());
    const deleteRetentionMs = Number(
      t.configs['delete.retention.ms'] ?? TOPIC_CONFIG_DEFAULTS['delete.retention.ms'],
    );
    for (const [i, p] of t.partitions.entries()) {
      if (policy.includes('delete')) {
        const removed = p.enforceRetention();
        if (removed > 0) log.info({ topic: t.name, partition: i, removed }, 'retention removed segments');
      }
      if (policy.includes('compact') && compactedAt.get(p) !== p.nextOffset) {
        compactedAt.set(p, p.nextOffset);
        // Compaction reads the files: everything appended must be in them.
        p.drainSync();
        const removed = compactPartition(p, deleteRetentionMs, now);
        if (removed > 0) log.info({ topic: t.name, partition: i, removed }, 'compaction removed records');
      }
    }
  }
}
