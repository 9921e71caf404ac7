/** Progress of a migration, reported after each object or block. */
export interface MigrateProgress {
  /** Blocks done so far (copied or skipped). */
  blocks: number;
  /** Blocks in the whole run. */
  totalBlocks: number;
  /** Bytes copied so far. */
  bytes: number;
  /** Bytes of the whole run (skipped blocks count as done). */
  totalBytes: number;
  /** Samples in blocks done so far, from their meta.json. */
  samples: number;
  /** Blocks skipped because the destination already holds them. */
  skipped: number;
}

/** What a finished migration did. */
export interface MigrateResult {
  /** ULIDs of blocks copied. */
  copied: string[];
  /** ULIDs of blocks the destination already held. */
  skipped: string[];
  bytes: number;
  samples: number;
  seconds: number;
}

/** Progress callback of every migration. */
export type OnProgress = (p: MigrateProgress) => void;
