import { ApiError } from './errors.js';
import { type Params, parseDurationText, single } from './params.js';

/** The query parameter that bounds the resolution a query reads, as Thanos' query API names it. */
export const MAX_SOURCE_RESOLUTION = 'max_source_resolution';

/** How the API picks a query's largest resolution when the request does not name one. */
export interface DownsamplingDefaults {
  /**
   * Every query reads at `auto` unless it names a resolution (Thanos'
   * `--query.auto-downsampling`); without it a query reads raw data only.
   */
  autoDownsampling?: boolean;
  /** What `auto` means for an instant query, milliseconds (Thanos' default: 0, raw). */
  instantMaxSourceResolution?: number;
}

/**
 * The largest resolution (ms) a query may read, from `max_source_resolution`
 * as Thanos' query API parses it: `auto` (or no parameter with auto
 * downsampling on) is `autoMs` (a range query's step / 5, so that at least
 * five samples fall in a step); `raw` is 0; any other value a duration in
 * float seconds or Prometheus' form (`0s`, `5m`, `1h`); without the
 * parameter and auto downsampling, 0. A bad or negative value is a
 * `bad_data` error worded as Thanos words it.
 */
export function maxSourceResolution(params: Params, autoMs: number, defaults: DownsamplingDefaults): number {
  const text = single(params, MAX_SOURCE_RESOLUTION) ?? '';
  let ms = defaults.autoDownsampling === true || text === 'auto' ? autoMs : 0;
  if (text === 'raw') return 0;
  if (text !== '' && text !== 'auto') {
    const parsed = parseDurationText(text);
    if (typeof parsed === 'string')
      throw new ApiError('bad_data', `'${MAX_SOURCE_RESOLUTION}' parameter: ${parsed}`);
    ms = parsed;
  }
  if (ms < 0) {
    throw new ApiError(
      'bad_data',
      `negative '${MAX_SOURCE_RESOLUTION}' is not accepted. Try a positive integer`,
    );
  }
  return ms;
}
