/** The query package: PromQL engine, head, block querier, HTTP API. */

export {
  API_ERROR_CODES,
  ApiError,
  type ApiErrorCode,
  type ApiServices,
  type BuildInfo,
  type DownsamplingDefaults,
  formatFloat,
  formatTimestamp,
  type PromqlSyntax,
  prometheusApi,
  QueryGate,
  type ReadOptions,
  TENANT_HEADER,
} from './api/index.js';
export { parseTreeJson } from './api/parse-tree.js';
export { promqlSyntax } from './api/syntax.js';
export { BlockQuerier, type QueryableBlock } from './blocks/block-querier.js';
export { type BlockOpener, catalogBlockLister } from './blocks/catalog-lister.js';
export {
  aggregateFor,
  blocksForResolution,
  maxResolutionFor,
  RESOLUTION_LEVELS,
} from './blocks/resolution.js';
export { openStorageBlock } from './blocks/storage-block.js';
export {
  type BlockLister,
  type ListedBlock,
  TenantBlocks,
  type TenantBlocksOptions,
} from './blocks/tenant-blocks.js';
export {
  ENGINE_ERROR_CODES,
  EngineError,
  type EngineErrorCode,
  type EngineOptions,
  type FloatColumns,
  type FPoint,
  floatColumns,
  floatPoints,
  type HPoint,
  type MatrixSeries,
  type QueryEngine,
  type QueryResult,
  type QueryValue,
  type VectorSample,
} from './engine-types.js';
export * from './events/index.js';
export * from './head/index.js';
export { MemoryQuerier } from './memory-querier.js';
export { compareLabels, labelsKey, MergeIterator, MergeQuerier } from './merge-querier.js';
export type { Expr } from './promql/ast.js';
export { Engine } from './promql/engine.js';
export { formatDuration, formatExpr } from './promql/format.js';
export { parseExpr } from './promql/parser.js';
export { xxhash64 } from './promql/xxhash.js';
export { parseLabelSet, parseSeriesValues, type SeriesPoint } from './promqltest/series.js';
export type { Querier, SelectHints, Series } from './querier.js';
export { type ReadPath, type ReadPathOptions, startReadPath } from './read-path.js';
export { type ServeBlocksOptions, serveBlocks } from './serve-blocks.js';
export { buildQueryApp, type QueryServer, type QueryServerOptions, startQueryServer } from './server.js';
