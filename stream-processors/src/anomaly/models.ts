/**
 * The combination rule and the model factory. `combined` (the default) is
 * the seasonal model with its change-point detector: its score is the larger
 * of the point score and the CUSUM score, so a spike fires at once and a
 * shift too small for the band fires after a few points. The robust z-score
 * and the trend forecaster are chosen per query, for series where a daily
 * and weekly pattern means nothing (spiky counts) or where the question is
 * when a line crosses a value.
 */
import type { ModelContext } from './context.js';
import { DEFAULT_HOLT_PARAMS, HoltModel } from './holt.js';
import type { AnomalyModel, ModelKind, ModelOptions } from './model.js';
import { DEFAULT_ROBUST_WINDOW, RobustZModel } from './robust-z.js';
import { DEFAULT_SEASONAL_PARAMS, SeasonalModel } from './seasonal.js';

/** A new model of `kind`, or one restored from its `state` bytes. */
export function createModel(
  kind: ModelKind,
  opts: ModelOptions,
  ctx: ModelContext,
  state?: ArrayBuffer,
): AnomalyModel {
  switch (kind) {
    case 'combined':
    case 'seasonal':
    case 'change_point':
      return new SeasonalModel(kind, opts, DEFAULT_SEASONAL_PARAMS, ctx, state);
    case 'robust_z':
      return new RobustZModel(opts, DEFAULT_ROBUST_WINDOW, ctx, state);
    case 'trend':
      return new HoltModel(opts, DEFAULT_HOLT_PARAMS, state);
  }
}
