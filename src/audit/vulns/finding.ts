import { fingerprintOf, type Finding } from '../../core/findings.js';
import type { PackageRef } from '../types.js';
import { allIds, canonicalId } from './aliases.js';
import type { OsvAdvisory, OsvAffected } from './osv-schema.js';
import type { AffectedMatch, AnyScheme } from './ranges.js';
import { worstSeverity, type SeverityAssessment } from './severity.js';

/** One advisory that affects one component. */
export interface AdvisoryHit {
  advisory: OsvAdvisory;
  /** The advisory's `affected` entries that name the component's package. */
  affected: OsvAffected[];
  match: AffectedMatch;
  severity: SeverityAssessment;
}

const MAX_REFERENCES = 12;
const MAX_TITLE_SUMMARY = 120;

/** One finding for one vulnerability (a group of aliased advisories) in one component. */
export function vulnerabilityFinding(component: PackageRef, group: AdvisoryHit[], key: Uint8Array, scheme: AnyScheme): Finding {
  const rule = canonicalId(group.map((h) => h.advisory));
  const ids = allIds(group.map((h) => h.advisory));
  // The canonical advisory first, the others in id order: stable evidence whatever the read order.
  const hits = [...group].sort((a, b) => ids.indexOf(a.advisory.id) - ids.indexOf(b.advisory.id));
  const main = hits[0]!;
  const severity = worstSeverity(hits.map((h) => h.severity));
  const fixed = sortVersions(scheme, unique(hits.flatMap((h) => h.match.fixed)));
  const upgradeTo = highest(scheme, hits.map((h) => h.match.upgradeTo).filter((v): v is string => v !== undefined));
  const lastAffected = hits.map((h) => h.match.lastAffected).find((v) => v !== undefined);
  const fingerprint = fingerprintOf(key, 'vuln', rule, component.purl);
  const cwe = hits.flatMap((h) => cweIds(h.advisory)).find((id) => /^CWE-\d+$/.test(id));
  const at = `${component.name}@${component.version}`;
  const aliasesOnly = ids.filter((id) => !hits.some((h) => h.advisory.id === id));

  const evidence = [
    `${at} (${component.ecosystem}) matches ${hits.map((h) => `${h.advisory.id} (${h.match.how.join(' or ')})`).join(', ')}`,
    ...(aliasesOnly.length > 0 ? [`also known as ${aliasesOnly.join(', ')}`] : []),
    fixed.length > 0 ? `fixed in ${fixed.join(', ')}` : 'no fixed version published',
    `severity ${severity.severity}${severity.known ? ` from ${severity.source}` : ' (unknown: no CVSS vector or database severity; reported as high)'}`,
  ].join('; ');

  return {
    id: `${rule}:${fingerprint.slice(0, 8)}`,
    rule,
    severity: severity.severity,
    category: 'vulnerability',
    title: `${at}: ${summaryOf(main.advisory) ?? `known vulnerability`} (${ids.join(', ')})`,
    location: { purl: component.purl, ...(component.manifests[0] !== undefined ? { manifest: component.manifests[0] } : {}) },
    evidence,
    fingerprint,
    remediation: remediation(component.name, upgradeTo, lastAffected, rule),
    ...(cwe ? { cwe } : {}),
    references: references(hits),
  };
}

function remediation(name: string, upgradeTo: string | undefined, lastAffected: string | undefined, rule: string): string {
  if (upgradeTo !== undefined) return `Upgrade ${name} to >= ${upgradeTo}.`;
  if (lastAffected !== undefined) {
    return `No fixed version is named; versions after ${lastAffected} are not affected: upgrade ${name} past ${lastAffected}, or replace it.`;
  }
  return `No fixed version of ${name} is published for ${rule}: replace or remove it, or record the accepted risk in a baseline.`;
}

function summaryOf(advisory: OsvAdvisory): string | undefined {
  const text = advisory.summary?.trim() || advisory.details?.trim().split('\n')[0]?.trim();
  if (!text) return undefined;
  return text.length > MAX_TITLE_SUMMARY ? `${text.slice(0, MAX_TITLE_SUMMARY - 1)}\u2026` : text;
}

function cweIds(advisory: OsvAdvisory): string[] {
  const ids = advisory.database_specific?.['cwe_ids'];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/** An osv.dev page per advisory of the group, then the advisories' own ADVISORY links. */
function references(hits: AdvisoryHit[]): string[] {
  const urls = hits.map((h) => `https://osv.dev/vulnerability/${encodeURIComponent(h.advisory.id)}`);
  for (const hit of hits) {
    for (const ref of hit.advisory.references ?? []) if (ref.type === 'ADVISORY' && /^https?:\/\//.test(ref.url)) urls.push(ref.url);
  }
  return unique(urls).slice(0, MAX_REFERENCES);
}

/** Ascending in `scheme`; versions it cannot parse keep their place at the end. */
function sortVersions(scheme: AnyScheme, values: string[]): string[] {
  const parsed = values.map((raw) => ({ raw, at: scheme.parse(raw) }));
  const known = parsed.filter((v) => v.at !== undefined).sort((a, b) => scheme.compare(a.at, b.at));
  return [...known, ...parsed.filter((v) => v.at === undefined)].map((v) => v.raw);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The highest version of `values` in `scheme` (a fix every advisory of the group agrees on). */
function highest(scheme: AnyScheme, values: string[]): string | undefined {
  let best: { raw: string; at: unknown } | undefined;
  for (const raw of values) {
    const at = scheme.parse(raw);
    if (at === undefined) {
      best ??= { raw, at: undefined };
      continue;
    }
    if (!best || best.at === undefined || scheme.compare(at, best.at) > 0) best = { raw, at };
  }
  return best?.raw;
}
