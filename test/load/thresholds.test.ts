import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { decodeHistogram } from '../../src/load/histogram.js';
import {
  describeThresholdResult,
  evaluateThresholds,
  failedThresholds,
  formatThresholdValue,
  p99LimitFrom,
  parseThresholdSpec,
  thresholdsPassed,
} from '../../src/load/thresholds.js';
import { fixtureData, outcome } from './report-fixture.js';

const T0 = 1_700_000_000_000;

/** 100 requests over 10 s: check_allowed 1..90 ms (one 503), check_blocked 10 throttled, no health. */
function data() {
  const outcomes = [];
  for (let i = 0; i < 90; i++) {
    outcomes.push(outcome({ at: T0 + i * 100, request: 0, latencyUs: (i + 1) * 1000, serviceUs: (i + 1) * 500, ...(i === 0 ? { status: 503, error: 'server_error' as const } : {}) }));
  }
  for (let i = 0; i < 10; i++) outcomes.push(outcome({ at: T0 + 9000 + i * 10, request: 1, status: 429, throttled: true, retryAfter: i > 0, latencyUs: 300 }));
  outcomes.sort((a, b) => a.at - b.at);
  return fixtureData({ startedAt: T0, endedAt: T0 + 10_000, outcomes, dropped: [T0 + 1, T0 + 2] });
}

const fails = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
};

describe('parseThresholdSpec', () => {
  it('accepts k6 syntax with aliases and tag filters', () => {
    const parsed = parseThresholdSpec(
      {
        http_req_duration: ['p(95)<500', 'p(99.9) <= 1500', 'avg<200', 'med<100', 'max < 2000', 'min>=0'],
        'latency{endpoint:check_allowed}': ['p(99)<800'],
        http_req_failed: ['rate<0.01'],
        'errors{status:5xx}': ['count==0'],
        throttled: ['rate<=0.5'],
        dropped: ['count==0', 'rate<1'],
        http_reqs: ['rate>10', 'count!=0'],
        service_time: ['p(50)<10'],
      },
      'profiles/normal.json',
    );
    expect(parsed).toHaveLength(15);
    expect(parsed[1]).toMatchObject({ key: 'http_req_duration', name: 'latency', aggregation: 'p', percentile: 99.9, operator: '<=', limit: 1500 });
    expect(parsed[6]).toMatchObject({ name: 'latency', filter: { tag: 'endpoint', value: 'check_allowed' } });
    expect(parsed[8]).toMatchObject({ name: 'errors', filter: { tag: 'status', value: '5xx' }, aggregation: 'count', operator: '==' });
  });

  it('names the file, the JSON path and what was expected', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ latency: ['p(99)<<800'] }, /profiles\/normal\.json is invalid: \$\.thresholds\['latency'\]\[0\]: expected an expression like "p\(99\)<800"/],
      [{ latency: ['rate<0.1'] }, /\$\.thresholds\['latency'\]\[0\]: latency is a trend: expected avg, min, max, med, p\(N\), found "rate"/],
      [{ errors: ['p(99)<1'] }, /\$\.thresholds\['errors'\]\[0\]: errors is a rate: expected rate, count/],
      [{ latency: ['p(0)<1'] }, /percentile out of range.*0 < N <= 100/],
      [{ latency: ['p(100.5)<1'] }, /percentile out of range/],
      [{ latencyy: ['p(99)<1'] }, /\$\.thresholds\['latencyy'\]: unknown metric "latencyy": expected one of latency, http_req_duration/],
      [{ 'latency{method:GET}': ['p(99)<1'] }, /unknown tag filter "method"/],
      [{ 'latency{status:200}': ['p(99)<1'] }, /status filter "200": expected one of 2xx, 3xx, 4xx, 5xx, none/],
      [{ 'dropped{status:5xx}': ['count==0'] }, /dropped arrivals have no status/],
      [{ latency: [] }, /\$\.thresholds\['latency'\]: expected a non-empty list/],
      [{ latency: 'p(99)<800' }, /expected a non-empty list/],
      [{ latency: [800] }, /\$\.thresholds\['latency'\]\[0\]: expected a string expression, found 800/],
    ];
    for (const [spec, message] of bad) {
      const err = fails(() => parseThresholdSpec(spec as never, 'profiles/normal.json'));
      expect(err).toBeInstanceOf(InvalidInputError);
      expect(err.message).toMatch(message);
    }
  });
});

describe('evaluateThresholds', () => {
  it('evaluates trends in ms, rates and counters, with the measured value', () => {
    const d = data();
    const results = evaluateThresholds(
      {
        latency: ['p(99)<50', 'avg<100', 'max<=91', 'min<1'],
        'latency{endpoint:check_allowed}': ['p(50)<50', 'med<50'],
        service_time: ['p(99)<50'],
        errors: ['rate<0.05', 'count==1'],
        'errors{status:5xx}': ['rate==1'],
        throttled: ['rate<0.05'],
        dropped: ['count==0'],
        requests: ['count==100', 'rate>=10'],
      },
      d,
    );
    const byExpr = Object.fromEntries(results.map((r) => [`${r.metric} ${r.expression}`, r]));
    expect(byExpr['latency p(99)<50']).toMatchObject({ passed: false });
    expect(byExpr['latency p(99)<50']!.value).toBeCloseTo(89, 0); // the 99th of 100 values
    expect(byExpr['latency avg<100']!.value).toBe(d.totals.latency_ms.mean);
    expect(byExpr['latency max<=91']).toMatchObject({ passed: true });
    expect(byExpr['latency min<1']).toMatchObject({ passed: true, value: 0.3 });
    expect(byExpr['latency{endpoint:check_allowed} p(50)<50']!.value).toBeCloseTo(45, 0);
    expect(byExpr['latency{endpoint:check_allowed} med<50']!.value).toBe(d.endpoints['check_allowed']!.latency_ms.p50);
    expect(byExpr['service_time p(99)<50']).toMatchObject({ passed: true });
    expect(byExpr['errors rate<0.05']).toMatchObject({ passed: true, value: 0.01 });
    expect(byExpr['errors count==1']).toMatchObject({ passed: true, value: 1 });
    expect(byExpr['errors{status:5xx} rate==1']).toMatchObject({ passed: true, value: 1 });
    expect(byExpr['throttled rate<0.05']).toMatchObject({ passed: false, value: 0.1 });
    expect(byExpr['dropped count==0']).toMatchObject({ passed: false, value: 2 });
    expect(byExpr['requests count==100']).toMatchObject({ passed: true });
    expect(byExpr['requests rate>=10']).toMatchObject({ passed: true, value: 10 });
  });

  it('computes any percentile from the histogram, not only the summary ones', () => {
    const d = data();
    const [r] = evaluateThresholds({ latency: ['p(75)<1000'] }, d);
    const h = decodeHistogram(d.totals.histograms.latency);
    expect(r!.value).toBe(h.getValueAtPercentile(75) / 1000);
  });

  it('fails a filter that matches nothing as not measured, never passed; a count over a known empty group is a measured 0', () => {
    const d = data();
    const results = evaluateThresholds(
      {
        'latency{endpoint:health}': ['p(99)<800'],
        'errors{endpoint:nope}': ['rate<1', 'count==0'],
        'requests{status:3xx}': ['count>=0'],
      },
      d,
    );
    expect(results).toEqual([
      { metric: 'latency{endpoint:health}', expression: 'p(99)<800', value: null, passed: false, reason: 'not measured: no requests for endpoint:health' },
      { metric: 'errors{endpoint:nope}', expression: 'rate<1', value: null, passed: false, reason: 'not measured: no requests for endpoint:nope' },
      { metric: 'errors{endpoint:nope}', expression: 'count==0', value: null, passed: false, reason: 'not measured: no requests for endpoint:nope' },
      // "No 3xx" holds when none came: the class is known, so its count is measured.
      { metric: 'requests{status:3xx}', expression: 'count>=0', value: 0, passed: true },
    ]);
  });

  it('fails trends and rates of a run without requests as not measured; counts are 0', () => {
    const empty = fixtureData({ startedAt: T0, endedAt: T0 + 1000, outcomes: [] });
    const results = evaluateThresholds({ latency: ['p(95)<500'], errors: ['rate<0.01', 'count==0'] }, empty);
    expect(results.map((r) => [r.passed, r.value, r.reason])).toEqual([
      [false, null, 'not measured: no requests'],
      [false, null, 'not measured: no requests'],
      [true, 0, undefined],
    ]);
  });

  it('summarises and formats results for the reports', () => {
    const d = data();
    const results = evaluateThresholds({ latency: ['p(99)<50'], errors: ['rate<0.05'], requests: ['rate>1', 'count>1'], 'latency{endpoint:x}': ['avg<1'] }, d);
    expect(thresholdsPassed(results)).toBe(false);
    expect(thresholdsPassed([])).toBe(true);
    expect(failedThresholds(results).map((r) => r.metric)).toEqual(['latency', 'latency{endpoint:x}']);
    expect(formatThresholdValue(results[0]!)).toMatch(/^89\.\d+ ms$/);
    expect(formatThresholdValue(results[1]!)).toBe('1%');
    expect(formatThresholdValue(results[2]!)).toBe('10/s');
    expect(formatThresholdValue(results[3]!)).toBe('100');
    expect(describeThresholdResult(results[1]!)).toBe('errors rate<0.05: 1% — passed');
    expect(describeThresholdResult(results[4]!)).toBe('latency{endpoint:x} avg<1: not measured — failed (not measured: no requests for endpoint:x)');
  });
});

describe('p99LimitFrom', () => {
  it('takes the tightest unfiltered p(99) upper bound on latency', () => {
    expect(p99LimitFrom({ latency: ['p(95)<500', 'p(99)<800'], http_req_duration: ['p(99)<=700'], 'latency{endpoint:x}': ['p(99)<10'] })).toBe(700);
    expect(p99LimitFrom({ latency: ['p(95)<500'], errors: ['rate<0.01'] })).toBeUndefined();
    expect(p99LimitFrom({ latency: ['p(99)>5'] })).toBeUndefined();
  });
});
