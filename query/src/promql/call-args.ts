import { EngineError } from '../engine-types.js';
import type { Value, VectorValue } from './values.js';

/** Checks of a function call's evaluated arguments. */

/** The argument as a scalar's values per step, or a bad_data error. */
export function scalarArg(v: Value): Float64Array {
  if (v.type !== 'scalar') throw new EngineError('bad_data', 'expected a scalar argument');
  return v.v;
}

/** The argument as a string, or a bad_data error. */
export function stringArg(v: Value): string {
  if (v.type !== 'string') throw new EngineError('bad_data', 'expected a string argument');
  return v.s;
}

/** The argument as an instant vector, or a bad_data error. */
export function vectorArg(v: Value): VectorValue {
  if (v.type !== 'vector') throw new EngineError('bad_data', 'expected an instant vector argument');
  return v;
}
