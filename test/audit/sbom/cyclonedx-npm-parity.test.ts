import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { execa } from 'execa';
import { PackageURL } from 'packageurl-js';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSbom } from '../../../src/audit/sbom/build-sbom.js';

/**
 * Acceptance (issue 10): the SBOM of this project's own lockfile is valid CycloneDX and lists the
 * same packages as @cyclonedx/cyclonedx-npm does for the same lockfile. cyclonedx-npm nests
 * components by install path and adds purl qualifiers for non-registry sources: both are
 * flattened/stripped before comparing. The dependency graphs, as purl -> purl edges, match too.
 */

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CYCLONEDX_NPM = join(REPO, 'node_modules', '.bin', 'cyclonedx-npm');

interface CdxComponent {
  'bom-ref'?: string;
  purl?: string;
  components?: CdxComponent[];
}
interface CdxBom {
  metadata: { component: CdxComponent };
  components?: CdxComponent[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
}

const bare = (purl: string) => {
  const p = PackageURL.fromString(purl);
  return new PackageURL(p.type, p.namespace, p.name, p.version, undefined, undefined).toString();
};

/** Every component, nested ones included: bom-ref -> purl without qualifiers. */
function purlsByRef(bom: CdxBom): Map<string, string> {
  const refs = new Map<string, string>();
  const walk = (list: CdxComponent[] | undefined) => {
    for (const c of list ?? []) {
      if (c.purl !== undefined && c['bom-ref'] !== undefined) refs.set(c['bom-ref'], bare(c.purl));
      walk(c.components);
    }
  };
  walk(bom.components);
  return refs;
}

/** "from -> to" purl edges; the project itself is "ROOT". */
function edges(bom: CdxBom): Set<string> {
  const refs = purlsByRef(bom);
  refs.set(bom.metadata.component['bom-ref']!, 'ROOT');
  const out = new Set<string>();
  for (const d of bom.dependencies ?? []) for (const to of d.dependsOn ?? []) out.add(`${refs.get(d.ref) ?? d.ref} -> ${refs.get(to) ?? to}`);
  return out;
}

describe('SBOM of this project vs cyclonedx-npm', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'govctl-parity-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is valid CycloneDX with the same purl set and dependency graph as cyclonedx-npm --package-lock-only', async () => {
    const theirsFile = join(tmp, 'cyclonedx-npm.cdx.json');
    const [ours] = await Promise.all([
      buildSbom({ dir: REPO, spec: '1.6', reproducible: true, fingerprintKey: new Uint8Array(32) }),
      execa(CYCLONEDX_NPM, ['--package-lock-only', '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', theirsFile], { cwd: REPO }),
    ]);
    const oursBom = JSON.parse(ours.bomJson!) as CdxBom;
    const theirsBom = JSON.parse(readFileSync(theirsFile, 'utf8')) as CdxBom;

    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(ours.bomJson!)).toBeNull();
    const oursPurls = [...new Set(purlsByRef(oursBom).values())].sort();
    const theirsPurls = [...new Set(purlsByRef(theirsBom).values())].sort();
    expect(theirsPurls.length).toBeGreaterThan(100);
    expect(oursPurls).toEqual(theirsPurls);
    expect(ours.components.map((c) => c.purl)).toEqual(oursPurls);
    expect([...edges(oursBom)].sort()).toEqual([...edges(theirsBom)].sort());
  }, 60_000);
});
