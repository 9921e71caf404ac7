/** Import into and export out of promstream: Prometheus blocks, OpenMetrics, bucket to bucket. */
export { MIGRATE_ERROR_CODES, MigrateError, type MigrateErrorCode } from './errors.js';
export { type ExportBlocksOptions, exportBlocks } from './export-blocks.js';
export { type ExportLogOptions, type ExportLogResult, exportLog, type LogPoint } from './export-log.js';
export {
  checkTenant,
  findBlockDirs,
  type ImportBlocksOptions,
  importBlocks,
  withThanosSection,
} from './import-blocks.js';
export {
  type ImportOpenMetricsOptions,
  type ImportOpenMetricsResult,
  importOpenMetrics,
} from './import-openmetrics.js';
export {
  checkRemoteRead,
  type ImportRemoteReadOptions,
  importRemoteRead,
  readWindows,
} from './import-remote-read.js';
export {
  importOpenMetricsToLog,
  importRemoteReadToLog,
  type LogImportProgress,
  type LogImportResult,
  type LogSeries,
  type SeriesSink,
  type TextToLogOptions,
  type ToLogOptions,
} from './import-to-log.js';
export type { MigrateProgress, MigrateResult, OnProgress } from './progress.js';
export { decodeReadResponse, encodeReadRequest, type ReadQuery, type ReadSeries } from './remote-read-v1.js';
