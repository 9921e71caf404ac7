import type { Event } from '@promstream/schemas';
import type { DeadLetter, DeadLetterSink } from '../src/deadletter/seams.js';

// Shared by the event-store suites: a deterministic event mix and a dead-letter sink in memory.

/** Event `i` of a run: hosts, sources, kinds and tenants cycle; every 7th has no tenant attribute. */
export function testEvent(i: number, t0: number): Event {
  const sources = ['kernel', 'os', 'hardware', 'app'] as const;
  const severities = ['info', 'warning', 'error', 'critical'] as const;
  const attributes: Record<string, string> = { seq: String(i) };
  if (i % 7 !== 0) attributes.tenant = i % 2 === 0 ? 'team-a' : 'team-b';
  return {
    time: t0 + i * 1000,
    host: `host-${i % 5}`,
    source: sources[i % 4] as Event['source'],
    kind: i % 3 === 0 ? 'oom_kill' : 'link_down',
    severity: severities[i % 4] as Event['severity'],
    message: `event ${i} on nvme${i % 2}`,
    attributes,
  };
}

/** Dead letters, kept in memory. */
export class MemoryLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async send(letters: readonly DeadLetter[]) {
    this.letters.push(...letters);
  }
}
