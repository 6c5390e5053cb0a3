import { COVERAGE_METRICS } from './coverage.js';
import { DOCS_METRICS } from './docs.js';
import type { MetricDef } from './metric-types.js';
import { CHAOS_METRICS } from './metrics-chaos.js';
import { LOAD_METRICS } from './metrics-load.js';
import { RELEASE_METRICS } from './metrics-release.js';
import { SECURITY_METRICS } from './metrics-security.js';

/** Every metric a gate can name, by name (the gate file schema's enum comes from here). */
export const METRICS: ReadonlyMap<string, MetricDef> = new Map(
  [...COVERAGE_METRICS, ...LOAD_METRICS, ...CHAOS_METRICS, ...SECURITY_METRICS, ...RELEASE_METRICS, ...DOCS_METRICS].map((m) => [m.name, m]),
);

export function metricDef(name: string): MetricDef {
  const def = METRICS.get(name);
  if (!def) throw new Error(`unknown metric ${name}`); // the schema's enum keeps these out
  return def;
}

export type { MeasureContext, Measurement, MetricDef } from './metric-types.js';
