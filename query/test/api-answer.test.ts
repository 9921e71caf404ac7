import { describe, expect, it } from 'vitest';
import { compareAnswers, parseAnswer } from './support/api-answer.js';

// The comparison behind the differential test and the query benchmark: each
// kind of difference it must report, shown on small hand-written answers.

const vector = (t: number, v: string, extra = '') =>
  `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[${t},"${v}"]}${extra}]}}`;

describe('compareAnswers', () => {
  it('accepts the same answer', () => {
    expect(
      compareAnswers('q', parseAnswer(200, vector(1.5, '2')), parseAnswer(200, vector(1.5, '2'))),
    ).toEqual([]);
  });

  it('reports a timestamp one millisecond off, however loose the value tolerance', () => {
    const d = compareAnswers('q', parseAnswer(200, vector(1.501, '2')), parseAnswer(200, vector(1.5, '2')), {
      tolerance: 1,
    });
    expect(d).toEqual(['q: {a="1"}: point 0 at 1.501 vs 1.5']);
  });

  it('compares values exactly by default and within the tolerance when given', () => {
    const ours = parseAnswer(200, vector(1, '1.0000000000001'));
    const theirs = parseAnswer(200, vector(1, '1'));
    expect(compareAnswers('q', ours, theirs)).toEqual(['q: {a="1"}: at 1 value 1.0000000000001 vs 1']);
    expect(compareAnswers('q', ours, theirs, { tolerance: 1e-12 })).toEqual([]);
    expect(compareAnswers('q', parseAnswer(200, vector(1, 'NaN')), theirs, { tolerance: 1 })).toHaveLength(1);
  });

  it('reports another result type, a scalar for a one-series vector included', () => {
    const scalar = parseAnswer(200, '{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}');
    const oneSeries = parseAnswer(
      200,
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}',
    );
    expect(compareAnswers('q', scalar, oneSeries)).toEqual(['q: result type scalar vs vector']);
  });

  it('reports missing and extra series, and the order when it matters', () => {
    const two = (first: string, second: string) =>
      parseAnswer(
        200,
        `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"${first}"},"value":[1,"1"]},{"metric":{"a":"${second}"},"value":[1,"1"]}]}}`,
      );
    expect(compareAnswers('q', two('x', 'y'), two('y', 'x'))).toEqual([]);
    expect(compareAnswers('q', two('x', 'y'), two('y', 'x'), { ordered: true })).toHaveLength(2);
    expect(compareAnswers('q', two('x', 'z'), two('x', 'y'))).toEqual([
      'q: extra series {a="z"}',
      'q: missing series {a="y"}',
    ]);
  });

  it('reports different warnings and infos', () => {
    const withWarning = (w: string) =>
      parseAnswer(200, `${vector(1, '1').slice(0, -1)},"warnings":["${w}"]}`);
    expect(compareAnswers('q', withWarning('a'), withWarning('b'))).toEqual(['q: warnings ["a"] vs ["b"]']);
    expect(compareAnswers('q', parseAnswer(200, vector(1, '1')), withWarning('b'))).toHaveLength(1);
  });

  it('reports an error where the reference answers, and another error type or message', () => {
    const err = (http: number, type: string, msg: string) =>
      parseAnswer(http, `{"status":"error","errorType":"${type}","error":"${msg}"}`);
    expect(compareAnswers('q', parseAnswer(200, vector(1, '1')), err(422, 'execution', 'x'))).toEqual([
      'q: HTTP 200 vs 422',
      'q: success vs error (vector of 1 vs execution: x)',
    ]);
    expect(compareAnswers('q', err(400, 'bad_data', 'x'), err(422, 'execution', 'x'))).toEqual([
      'q: HTTP 400 vs 422',
      'q: errorType bad_data vs execution',
    ]);
    expect(compareAnswers('q', err(400, 'bad_data', '1:1: x'), err(400, 'bad_data', '1:6: x'))).toEqual([
      'q: error "1:1: x" vs "1:6: x"',
    ]);
  });
});
