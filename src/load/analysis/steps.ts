import type { LoadReportData, StageResult } from '../types.js';

export interface StepRules {
  /** A stage whose p99 (ms) is above this broke; no latency criterion when absent. */
  p99LimitMs?: number;
  /** A stage whose error rate is above this broke (default 0.01: 1%). */
  errorRateLimit?: number;
}

export interface StepAnalysis {
  stages: StageResult[];
  breaking_point: LoadReportData['breaking_point'];
  max_sustained_throughput_rps: number | null;
}

/**
 * The stress profile's step table. Every stage that sent requests is judged on its own: broken
 * when its error rate is above the limit or its p99 above the p99 limit (throttled 429s are not
 * errors). The breaking point is the first broken stage; the maximum sustained throughput is the
 * highest throughput of a stage that sent requests and did not break (null when none did).
 */
export function analyzeSteps(stages: ReadonlyArray<Omit<StageResult, 'broken' | 'reasons'>>, rules: StepRules = {}): StepAnalysis {
  const errorRateLimit = rules.errorRateLimit ?? 0.01;
  const judged: StageResult[] = [...stages]
    .sort((a, b) => a.index - b.index)
    .map((stage) => {
      const reasons: string[] = [];
      const t = stage.totals;
      if (t.requests > 0) {
        if (t.error_rate > errorRateLimit) reasons.push(`error rate ${pct(t.error_rate)} > ${pct(errorRateLimit)}`);
        if (rules.p99LimitMs !== undefined && t.latency_ms.p99 > rules.p99LimitMs) {
          reasons.push(`p99 ${round(t.latency_ms.p99)} ms > ${round(rules.p99LimitMs)} ms`);
        }
      }
      return { ...stage, broken: reasons.length > 0, reasons };
    });
  const first = judged.find((s) => s.broken);
  const sustained = judged.filter((s) => !s.broken && s.totals.requests > 0).map((s) => s.totals.throughput_rps);
  return {
    stages: judged,
    breaking_point: first ? { stage: first.index, label: first.label, level: first.level, reasons: first.reasons } : null,
    max_sustained_throughput_rps: sustained.length > 0 ? Math.max(...sustained) : null,
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;
const pct = (fraction: number): string => `${round(fraction * 100)}%`;
