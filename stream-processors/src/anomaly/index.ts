/** Anomaly detection: models, episodes, the watch configuration, the shared scoring path and the backtest. */
export { type BacktestOptions, type BacktestReport, blockQuerier, runBacktest } from './backtest.js';
export { CHECKPOINT_VERSION, decodeCheckpoint, encodeCheckpoint, type SeriesState } from './checkpoint.js';
export { type AnomalyConfig, anomalyConfig, NODE_EXPORTER_QUERIES, type WatchedQuery } from './config.js';
export { type ModelContext, newContext } from './context.js';
export { DEFAULT_CLOSE_AFTER, type Episode, EpisodeTracker } from './episodes.js';
export { HoltModel } from './holt.js';
export {
  type AnomalyModel,
  DEFAULT_MODEL_OPTIONS,
  MODEL_KINDS,
  type ModelKind,
  type ModelOptions,
  pointRule,
  type Scored,
} from './model.js';
export { createModel } from './models.js';
export { RobustZModel } from './robust-z.js';
export { SEASONAL_STATE_BYTES, SeasonalModel } from './seasonal.js';
export { QueryWatch, type SeriesEpisode, withFor } from './watcher.js';
