import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/server/metrics.js';

/** Counts kept between scrapes must reach /metrics exactly, however many scrapes and pairs. */
describe('ServerMetrics tallies', () => {
  const series = async (metrics: ServerMetrics, name: string) => {
    const body = (await metrics.render()).body;
    return body.split('\n').filter((line) => line.startsWith(`${name}{`));
  };
  const total = (lines: string[]) => lines.reduce((n, line) => n + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

  it('adds requests and decisions at each scrape, never twice', async () => {
    const metrics = new ServerMetrics(() => 0);
    for (let i = 0; i < 5; i++) metrics.observeRequest('POST', '/v1/check', 200, 1);
    metrics.observeRequest('BREW', '/v1/check', 200, 1);
    metrics.observeDecision('m', 'o', true, 'ok');
    metrics.observeDecision('m', 'o', false, 'external_model');
    expect(await series(metrics, 'requests_total')).toEqual([
      'requests_total{method="POST",endpoint="/v1/check",status="200"} 5',
      'requests_total{method="OTHER",endpoint="/v1/check",status="200"} 1',
    ]);
    // A second scrape with nothing new shows the same totals.
    expect(total(await series(metrics, 'requests_total'))).toBe(6);
    metrics.observeRequest('POST', '/v1/check', 200, 1);
    metrics.observeDecision('m', 'o', false, 'external_model');
    expect(await series(metrics, 'requests_total')).toContain('requests_total{method="POST",endpoint="/v1/check",status="200"} 6');
    expect(await series(metrics, 'governance_allowed_total')).toEqual(['governance_allowed_total{model="m",operation="o"} 1']);
    expect(await series(metrics, 'governance_blocked_total')).toEqual([
      'governance_blocked_total{model="m",operation="o",reason="external_model"} 2',
    ]);
  });

  it('counts every decision past the tallied pairs, with labels still bounded and sanitised', async () => {
    const metrics = new ServerMetrics(() => 0);
    const pairs = 10_050;
    for (let i = 0; i < pairs; i++) metrics.observeDecision(`model-${i}`, 'op\u0000', i % 2 === 0, 'contains_personal_data');
    const allowed = await series(metrics, 'governance_allowed_total');
    const blocked = await series(metrics, 'governance_blocked_total');
    expect(total(allowed) + total(blocked)).toBe(pairs);
    // 100 model values at most, the rest as "other"; NUL made visible.
    expect(new Set([...allowed, ...blocked].map((l) => /model="([^"]*)"/.exec(l)![1])).size).toBe(101);
    expect(allowed.every((l) => l.includes('operation="op?"'))).toBe(true);
  });
});
