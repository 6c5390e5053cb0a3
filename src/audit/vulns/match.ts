import { performance } from 'node:perf_hooks';
import { InterruptedError } from '../../core/errors.js';
import { severityRank, type Finding } from '../../core/findings.js';
import type { PackageRef, StepContext, VulnsResult } from '../types.js';
import { groupByAlias } from './aliases.js';
import { vulnerabilityFinding, type AdvisoryHit } from './finding.js';
import { loadOsvDb } from './osv-db.js';
import type { OsvAdvisory, OsvAffected } from './osv-schema.js';
import { osvPackageKey, packageKey } from './package-key.js';
import { evaluateAffected, type AffectedMatch, type AnyScheme } from './ranges.js';
import { assessSeverity } from './severity.js';
import { semverScheme } from './versions-npm.js';
import { pep440Scheme } from './versions-pypi.js';

const SCHEMES: Record<PackageRef['ecosystem'], AnyScheme> = { npm: semverScheme, PyPI: pep440Scheme };
const MAX_NAMED = 5;

/**
 * `audit --vulns`: matches components against a local OSV database (a directory of OSV JSON
 * files or an ecosystem all.zip), offline. One finding per vulnerability per component, aliases
 * grouped; withdrawn advisories ignored. A component whose version its ecosystem cannot parse is
 * never matched and is reported in a warning event.
 */
export async function matchVulns(options: { components: PackageRef[]; osvDb: string } & StepContext): Promise<VulnsResult> {
  const started = performance.now();
  const warn = (message: string): void => options.onEvent?.({ type: 'warning', step: 'vulns', message });
  if (options.signal?.aborted) throw new InterruptedError('interrupted before vulnerability matching');

  const components = dedupe(options.components);
  const byKey = new Map<string, PackageRef[]>();
  const unparsed: PackageRef[] = [];
  for (const component of components) {
    if (SCHEMES[component.ecosystem].parse(component.version) === undefined) {
      unparsed.push(component);
      continue;
    }
    const key = packageKey(component.ecosystem, component.name);
    byKey.set(key, [...(byKey.get(key) ?? []), component]);
  }
  if (unparsed.length > 0) {
    warn(`${unparsed.length} component version(s) are not versions of their ecosystem and were not matched: ${named(unparsed.map((c) => `${c.name}@${c.version}`))}`);
  }

  const db = await loadOsvDb({
    path: options.osvDb,
    keep: (advisory) => advisory.affected?.some((a) => byKey.has(osvPackageKey(a.package) ?? '')) ?? false,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (message) => options.onEvent?.({ type: 'progress', step: 'vulns', message }),
  });

  const hitsByPurl = new Map<string, AdvisoryHit[]>();
  const badEventAdvisories = new Set<string>();
  for (const advisory of db.kept) {
    for (const [key, entries] of entriesByKey(advisory, byKey)) {
      for (const component of byKey.get(key)!) {
        const hit = evaluate(advisory, entries, component, badEventAdvisories);
        if (hit) hitsByPurl.set(component.purl, [...(hitsByPurl.get(component.purl) ?? []), hit]);
      }
    }
  }
  if (badEventAdvisories.size > 0) {
    warn(`${badEventAdvisories.size} advisory(ies) name versions that do not parse (${named([...badEventAdvisories])}): an unreadable "introduced" counts as "0", other unreadable events are ignored`);
  }

  const findings: Finding[] = [];
  for (const component of components) {
    const hits = hitsByPurl.get(component.purl);
    if (!hits) continue;
    for (const group of groupByAlias(hits.map((h) => ({ ...h, id: h.advisory.id, aliases: h.advisory.aliases ?? [] })))) {
      findings.push(vulnerabilityFinding(component, group, options.fingerprintKey, SCHEMES[component.ecosystem]));
    }
  }
  findings.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      compareText('purl' in a.location ? a.location.purl : '', 'purl' in b.location ? b.location.purl : '') ||
      compareText(a.rule, b.rule),
  );

  return {
    findings,
    summary: {
      database: options.osvDb,
      advisories: db.advisories,
      withdrawn: db.withdrawn,
      components: components.length,
      invalid_versions: unparsed.length,
      vulnerable_components: hitsByPurl.size,
      vulnerabilities: new Set(findings.map((f) => f.rule)).size,
      duration_ms: Math.round(performance.now() - started),
    },
  };
}

/** One component per purl; the manifests of duplicates are merged. */
function dedupe(components: PackageRef[]): PackageRef[] {
  const byPurl = new Map<string, PackageRef>();
  for (const component of components) {
    const seen = byPurl.get(component.purl);
    if (!seen) byPurl.set(component.purl, { ...component, manifests: [...component.manifests] });
    else for (const m of component.manifests) if (!seen.manifests.includes(m)) seen.manifests.push(m);
  }
  return [...byPurl.values()];
}

/** The advisory's `affected` entries, by the key of a component package they name. */
function entriesByKey(advisory: OsvAdvisory, byKey: Map<string, PackageRef[]>): Map<string, OsvAffected[]> {
  const out = new Map<string, OsvAffected[]>();
  for (const affected of advisory.affected ?? []) {
    const key = osvPackageKey(affected.package);
    if (key === undefined || !byKey.has(key)) continue;
    out.set(key, [...(out.get(key) ?? []), affected]);
  }
  return out;
}

function evaluate(advisory: OsvAdvisory, entries: OsvAffected[], component: PackageRef, badEvents: Set<string>): AdvisoryHit | undefined {
  const matched: OsvAffected[] = [];
  let merged: AffectedMatch | undefined;
  for (const affected of entries) {
    const result = evaluateAffected(affected, component.version, SCHEMES[component.ecosystem], semverScheme);
    if (result.badEvents.length > 0) badEvents.add(advisory.id);
    if (!result.match) continue;
    matched.push(affected);
    merged = merged ? mergeMatches(merged, result.match) : result.match;
  }
  if (!merged) return undefined;
  return { advisory, affected: matched, match: merged, severity: assessSeverity(advisory, matched) };
}

function mergeMatches(a: AffectedMatch, b: AffectedMatch): AffectedMatch {
  const upgradeTo = a.upgradeTo ?? b.upgradeTo;
  const lastAffected = a.lastAffected ?? b.lastAffected;
  return {
    how: [...a.how, ...b.how],
    fixed: [...new Set([...a.fixed, ...b.fixed])],
    ...(upgradeTo !== undefined ? { upgradeTo } : {}),
    ...(lastAffected !== undefined ? { lastAffected } : {}),
  };
}

function named(items: string[]): string {
  return items.length <= MAX_NAMED ? items.join(', ') : `${items.slice(0, MAX_NAMED).join(', ')}, \u2026`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
