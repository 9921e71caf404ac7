/** The query package: PromQL engine, head, block querier, HTTP API. */

export {
  ENGINE_ERROR_CODES,
  EngineError,
  type EngineErrorCode,
  type EngineOptions,
  type FPoint,
  type HPoint,
  type MatrixSeries,
  type QueryEngine,
  type QueryResult,
  type QueryValue,
  type VectorSample,
} from './engine-types.js';
export type { Querier, SelectHints, Series } from './querier.js';
