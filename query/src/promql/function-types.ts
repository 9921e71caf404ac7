import type { ValueKind } from './ast.js';

/**
 * Argument and return types of every PromQL function, as the parser checks
 * them. `optional` counts trailing arguments that may be left out; -1 means
 * the last argument type repeats without bound.
 */
export interface FunctionType {
  args: ValueKind[];
  optional: number;
  returns: ValueKind;
}

const v = 'vector' as const;
const m = 'matrix' as const;
const s = 'scalar' as const;
const str = 'string' as const;

const vectorToVector = [
  'abs',
  'ceil',
  'floor',
  'exp',
  'sqrt',
  'ln',
  'log2',
  'log10',
  'sgn',
  'deg',
  'rad',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'cos',
  'cosh',
  'sin',
  'sinh',
  'tan',
  'tanh',
  'histogram_count',
  'histogram_sum',
  'histogram_avg',
  'histogram_stddev',
  'histogram_stdvar',
  'sort',
  'sort_desc',
  'timestamp',
  'absent',
];

const matrixToVector = [
  'rate',
  'increase',
  'delta',
  'irate',
  'idelta',
  'changes',
  'resets',
  'deriv',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'first_over_time',
  'present_over_time',
  'absent_over_time',
  'mad_over_time',
  'ts_of_min_over_time',
  'ts_of_max_over_time',
  'ts_of_first_over_time',
  'ts_of_last_over_time',
];

const dateFunctions = [
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'hour',
  'minute',
  'month',
  'year',
];

/** The function table. */
export const FUNCTION_TYPES: ReadonlyMap<string, FunctionType> = new Map<string, FunctionType>([
  ...vectorToVector.map((n): [string, FunctionType] => [n, { args: [v], optional: 0, returns: v }]),
  ...matrixToVector.map((n): [string, FunctionType] => [n, { args: [m], optional: 0, returns: v }]),
  ...dateFunctions.map((n): [string, FunctionType] => [n, { args: [v], optional: 1, returns: v }]),
  ['round', { args: [v, s], optional: 1, returns: v }],
  ['clamp', { args: [v, s, s], optional: 0, returns: v }],
  ['clamp_max', { args: [v, s], optional: 0, returns: v }],
  ['clamp_min', { args: [v, s], optional: 0, returns: v }],
  ['predict_linear', { args: [m, s], optional: 0, returns: v }],
  ['quantile_over_time', { args: [s, m], optional: 0, returns: v }],
  ['double_exponential_smoothing', { args: [m, s, s], optional: 0, returns: v }],
  ['histogram_quantile', { args: [s, v], optional: 0, returns: v }],
  ['histogram_fraction', { args: [s, s, v], optional: 0, returns: v }],
  ['label_replace', { args: [v, str, str, str, str], optional: 0, returns: v }],
  ['label_join', { args: [v, str, str, str], optional: -1, returns: v }],
  ['sort_by_label', { args: [v, str], optional: -1, returns: v }],
  ['sort_by_label_desc', { args: [v, str], optional: -1, returns: v }],
  ['scalar', { args: [v], optional: 0, returns: s }],
  ['vector', { args: [s], optional: 0, returns: v }],
  ['time', { args: [], optional: 0, returns: s }],
  ['pi', { args: [], optional: 0, returns: s }],
]);
