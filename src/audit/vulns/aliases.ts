/**
 * Alias grouping: advisories that name each other (a GHSA, its CVE, a PYSEC record) describe one
 * vulnerability and become one finding per component. Union-find over ids and aliases, so
 * A->B and C->B land together even when A and C never mention each other.
 */

export interface Aliased {
  id: string;
  aliases?: string[] | null;
}

export function groupByAlias<T extends Aliased>(records: T[]): T[][] {
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    let root = id;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    // Path compression: later lookups are one step.
    let node = id;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (!parent.has(ra)) parent.set(ra, ra);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const record of records) {
    if (!parent.has(record.id)) parent.set(record.id, record.id);
    for (const alias of record.aliases ?? []) union(record.id, alias);
  }
  const groups = new Map<string, T[]>();
  for (const record of records) {
    const root = find(record.id);
    const group = groups.get(root);
    if (group) group.push(record);
    else groups.set(root, [record]);
  }
  return [...groups.values()];
}

/**
 * Priority of an id as the name of a vulnerability. GHSA first: it is what npm audit and
 * GitHub show, and it exists from publication, while a CVE is often assigned later (a
 * canonical id that changed when it arrived would change every fingerprint and break
 * baselines). Then the PyPI database's PYSEC, then other OSV ids (MAL-, OSV-, ...), CVE last.
 */
function rank(id: string): number {
  if (id.startsWith('GHSA-')) return 0;
  if (id.startsWith('PYSEC-')) return 1;
  if (id.startsWith('CVE-')) return 3;
  return 2;
}

/** The canonical id of a group: the best-ranked id of a record in the database (ties: smallest). */
export function canonicalId(records: Aliased[]): string {
  return records
    .map((r) => r.id)
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))[0]!;
}

/** Every id of the group, canonical first, then the others in the same order. */
export function allIds(records: Aliased[]): string[] {
  const canonical = canonicalId(records);
  const others = new Set<string>();
  for (const r of records) {
    others.add(r.id);
    for (const alias of r.aliases ?? []) others.add(alias);
  }
  others.delete(canonical);
  return [canonical, ...[...others].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))];
}
