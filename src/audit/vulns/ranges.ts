import type { OsvAffected, OsvEvent, OsvRange } from './osv-schema.js';

/** A version ordering: npm/SEMVER (semver) or PyPI (PEP 440). */
export interface VersionScheme<V> {
  name: string;
  /** undefined when `version` is not a version of this scheme. */
  parse(version: string): V | undefined;
  compare(a: V, b: V): number;
}

/** A scheme of unknown version type: a parsed value only ever goes back to the scheme that made it. */
export type AnyScheme = VersionScheme<any>;

export interface AffectedMatch {
  /** How the version was found affected, for people: "listed in its versions", ">= 1.0.0, < 1.0.2, SEMVER". */
  how: string[];
  /** Every `fixed` version the entry's ranges name, as written, in event order. */
  fixed: string[];
  /** The fix that closes the interval the version is in (the version to upgrade to). */
  upgradeTo?: string;
  /** When the interval is closed by `last_affected` instead: versions above it are not affected. */
  lastAffected?: string;
}

export interface AffectedEvaluation {
  match?: AffectedMatch;
  /** The component's version is not a version of a range's scheme: those ranges were not evaluated. */
  versionUnparsed: boolean;
  /** Event versions that do not parse (introduced taken as "0", the others ignored: never a false clean). */
  badEvents: string[];
}

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';
const MIN = Symbol('min');
const MAX = Symbol('max');

interface Bound<V> {
  kind: Kind;
  raw: string;
  at: V | typeof MIN | typeof MAX;
}

function kindOf(event: OsvEvent): Kind | undefined {
  if (event.introduced !== undefined) return 'introduced';
  if (event.fixed !== undefined) return 'fixed';
  if (event.last_affected !== undefined) return 'last_affected';
  if (event.limit !== undefined) return 'limit';
  return undefined;
}

function compareAt<V>(scheme: VersionScheme<V>, a: Bound<V>['at'], b: Bound<V>['at']): number {
  if (a === b) return 0;
  if (a === MIN || b === MAX) return -1;
  if (a === MAX || b === MIN) return 1;
  return scheme.compare(a, b);
}

/** Events with parsed versions. `introduced: "0"` sorts first and `limit: "*"` last, per OSV. */
function bounds<V>(range: OsvRange, scheme: VersionScheme<V>, bad: string[]): Bound<V>[] {
  const out: Bound<V>[] = [];
  for (const event of range.events) {
    const kind = kindOf(event);
    if (!kind) continue;
    const raw = event[kind]!;
    if (kind === 'introduced' && raw === '0') out.push({ kind, raw, at: MIN });
    else if (kind === 'limit' && raw.includes('*')) out.push({ kind, raw, at: MAX });
    else {
      const at = scheme.parse(raw);
      if (at !== undefined) out.push({ kind, raw, at });
      else {
        bad.push(`${kind} ${JSON.stringify(raw)}`);
        // An unreadable start must not hide the interval: treat it as the start of time.
        if (kind === 'introduced') out.push({ kind, raw, at: MIN });
      }
    }
  }
  return out;
}

/** "< 1.0.2, SEMVER", ">= 1.0.0, <= 1.4.0, SEMVER", ">= 2.0.0, no fix, SEMVER". */
function describe<V>(open: Bound<V>, close: Bound<V> | undefined, type: string): string {
  const parts = open.at === MIN ? [] : [`>= ${open.raw}`];
  if (close) parts.push(close.kind === 'fixed' ? `< ${close.raw}` : `<= ${close.raw}`);
  else parts.push(parts.length === 0 ? 'all versions' : 'no fix');
  return [...parts, type].join(', ');
}

interface RangeHit {
  how: string;
  upgradeTo?: string;
  lastAffected?: string;
}

/** OSV's IncludedInRanges for one range (https://ossf.github.io/osv-schema/#evaluation). */
function evaluateRange<V>(range: OsvRange, version: V, scheme: VersionScheme<V>, bad: string[]): RangeHit | undefined {
  const all = bounds(range, scheme, bad);
  const limits = all.filter((b) => b.kind === 'limit');
  if (limits.length > 0 && !limits.some((limit) => compareAt(scheme, version, limit.at) < 0)) return undefined;
  const events = all
    .map((bound, index) => ({ bound, index }))
    .filter(({ bound }) => bound.kind !== 'limit')
    .sort((a, b) => compareAt(scheme, a.bound.at, b.bound.at) || a.index - b.index)
    .map(({ bound }) => bound);
  let vulnerable = false;
  let openedAt = -1;
  events.forEach((event, i) => {
    const cmp = compareAt(scheme, version, event.at);
    if (event.kind === 'introduced' && cmp >= 0) {
      vulnerable = true;
      openedAt = i;
    } else if (event.kind === 'fixed' && cmp >= 0) vulnerable = false;
    else if (event.kind === 'last_affected' && cmp > 0) vulnerable = false;
  });
  if (!vulnerable) return undefined;
  const close = events.slice(openedAt + 1).find((e) => e.kind === 'fixed' || e.kind === 'last_affected');
  return {
    how: describe(events[openedAt]!, close, range.type),
    ...(close?.kind === 'fixed' ? { upgradeTo: close.raw } : {}),
    ...(close?.kind === 'last_affected' ? { lastAffected: close.raw } : {}),
  };
}

/**
 * OSV's IsVulnerable for one `affected` entry whose package is already known to match: the
 * version is affected when it is listed in `versions` or lies in one of the SEMVER/ECOSYSTEM
 * `ranges` (GIT ranges need a commit graph and are skipped). SEMVER ranges use SemVer order,
 * ECOSYSTEM ranges the ecosystem's (npm: SemVer too; PyPI: PEP 440).
 */
export function evaluateAffected(affected: OsvAffected, version: string, ecosystem: AnyScheme, semver: AnyScheme): AffectedEvaluation {
  const badEvents: string[] = [];
  let versionUnparsed = false;
  const how: string[] = [];
  const fixed: string[] = [];
  let upgradeTo: string | undefined;
  let lastAffected: string | undefined;

  const own = ecosystem.parse(version);
  if (own === undefined) versionUnparsed = true;
  if (affected.versions?.some((listed) => listed === version || (own !== undefined && sameVersion(ecosystem, own, listed)))) {
    how.push('listed in its versions');
  }
  for (const range of affected.ranges ?? []) {
    if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') continue;
    for (const event of range.events) if (event.fixed !== undefined && !fixed.includes(event.fixed)) fixed.push(event.fixed);
    const scheme = range.type === 'SEMVER' ? semver : ecosystem;
    const parsed = scheme === ecosystem ? own : scheme.parse(version);
    if (parsed === undefined) {
      versionUnparsed = true;
      continue;
    }
    const hit = evaluateRange(range, parsed, scheme, badEvents);
    if (!hit) continue;
    how.push(hit.how);
    if (hit.upgradeTo !== undefined) upgradeTo ??= hit.upgradeTo;
    if (hit.lastAffected !== undefined) lastAffected ??= hit.lastAffected;
  }
  if (how.length === 0) return { versionUnparsed, badEvents };
  // Matched through the versions list only: the smallest fix above the version, if any.
  if (upgradeTo === undefined && lastAffected === undefined && own !== undefined) upgradeTo = smallestAbove(ecosystem, own, fixed);
  return {
    match: { how, fixed, ...(upgradeTo !== undefined ? { upgradeTo } : {}), ...(lastAffected !== undefined ? { lastAffected } : {}) },
    versionUnparsed,
    badEvents,
  };
}

function sameVersion(scheme: AnyScheme, own: unknown, listed: string): boolean {
  const other = scheme.parse(listed);
  return other !== undefined && scheme.compare(own, other) === 0;
}

function smallestAbove(scheme: AnyScheme, own: unknown, candidates: string[]): string | undefined {
  let best: { raw: string; at: unknown } | undefined;
  for (const raw of candidates) {
    const at = scheme.parse(raw);
    if (at === undefined || scheme.compare(at, own) <= 0) continue;
    if (!best || scheme.compare(at, best.at) < 0) best = { raw, at };
  }
  return best?.raw;
}
