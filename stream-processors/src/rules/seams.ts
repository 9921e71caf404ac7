import type { Querier } from '@promstream/query';
import type { Labels } from '@promstream/storage';

/**
 * The seams of rule evaluation. A group reads through a `RuleSource` (a
 * querier that sees every sample acknowledged before the evaluation) and
 * writes what its rules produce through a `RuleSink`. The role wires the log
 * head with blocks and the derived topic; `promstream rules test` and the
 * unit tests wire one in-memory querier to both.
 */

/** One output sample: a recorded series point, or an `ALERTS`/`ALERTS_FOR_STATE` point. */
export interface RuleSample {
  labels: Labels;
  /** Time, ms. */
  t: number;
  v: number;
}

/** Where rules read from. */
export interface RuleSource {
  /** A querier for one tenant that sees every sample acknowledged before the call. */
  querier(tenant: string): Promise<Querier>;
}

/** Where rules write to. */
export interface RuleSink {
  /** Writes one rule's output of one evaluation; resolves once it is durable. */
  write(tenant: string, samples: readonly RuleSample[]): Promise<void>;
}
