/**
 * Vulnerability matching at scale: 1,000 components against a 50,000-advisory OSV zip.
 *
 *   node --import tsx bench/vulns-match.ts
 *
 * Generates (fixed seed) an npm + PyPI all.zip in a temp dir with the shapes of the real ones:
 * GHSA records with aliases, CVSS v3/v4 vectors, several ranges, references and a page of
 * details; PYSEC records with ECOSYSTEM ranges and long `versions` lists. About 1,000 advisories
 * hit the 1,000 synthetic components (some as GHSA/PYSEC alias pairs), 500 more name a component
 * without affecting its version, the rest name other packages. Times matchVulns end to end
 * (open, stream, parse, validate every entry, match, build findings). Target: < 5 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { crc32, deflateRawSync } from 'node:zlib';
import { matchVulns } from '../src/audit/vulns/match.js';
import type { PackageRef } from '../src/audit/types.js';

const COMPONENTS = 1_000;
const ADVISORIES = 50_000;
const TARGET_SECONDS = 5;

// mulberry32: a small deterministic PRNG.
let seed = 0x05ee_d0a5;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const ghsaId = (): string => {
  const part = (): string => Array.from({ length: 4 }, () => pick([...'23456789cfghjmpqrvwx'])).join('');
  return `GHSA-${part()}-${part()}-${part()}`;
};
const WORDS = ['prototype', 'pollution', 'regular', 'expression', 'denial', 'of', 'service', 'path', 'traversal', 'request', 'smuggling', 'in', 'the', 'parser', 'when', 'handling', 'untrusted', 'input', 'allows', 'attackers'];
const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const VECTORS_V3 = ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H', 'CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N'];
const VECTORS_V4 = ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 'CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N'];

interface Pkg {
  ecosystem: 'npm' | 'PyPI';
  name: string;
}

function components(): PackageRef[] {
  return Array.from({ length: COMPONENTS }, (_, i) => {
    const npm = i % 2 === 0;
    const name = npm ? (i % 10 === 0 ? `@bench/scoped-${i}` : `bench-pkg-${i}`) : `bench-py-${i}`;
    const version = `${1 + (i % 3)}.${i % 10}.${i % 7}`;
    const purl = npm ? `pkg:npm/${name.replace('@', '%40')}@${version}` : `pkg:pypi/${name}@${version}`;
    return { purl, ecosystem: npm ? 'npm' : 'PyPI', name, version, manifests: [npm ? 'package-lock.json' : 'poetry.lock'] } satisfies PackageRef;
  });
}

/** A realistic advisory; `window` is [introduced, fixed] of the range that may hit. */
function advisory(id: string, pkg: Pkg, window: [string, string], aliases: string[]): object {
  const pypi = pkg.ecosystem === 'PyPI';
  const ranges = [
    { type: pypi ? 'ECOSYSTEM' : 'SEMVER', events: [{ introduced: '0.1.0' }, { fixed: '0.4.2' }, { introduced: window[0] }, { fixed: window[1] }] },
  ];
  const affected = {
    package: { ecosystem: pkg.ecosystem, name: pkg.name, purl: `pkg:${pkg.ecosystem.toLowerCase()}/${pkg.name}` },
    ranges,
    ...(pypi ? { versions: Array.from({ length: 40 }, (_, k) => `0.${Math.floor(k / 10)}.${k % 10}`) } : {}),
    database_specific: { source: 'https://github.com/advisories' },
  };
  const severity = id.startsWith('PYSEC')
    ? undefined
    : [{ type: 'CVSS_V3', score: pick(VECTORS_V3) }, ...(rand() < 0.3 ? [{ type: 'CVSS_V4', score: pick(VECTORS_V4) }] : [])];
  return {
    schema_version: '1.6.0',
    id,
    modified: '2025-06-01T12:00:00Z',
    published: '2024-03-01T12:00:00Z',
    aliases,
    summary: `${words(6)} in ${pkg.name}`,
    details: `### Impact\n${words(120)}\n\n### Patches\nUpgrade to ${window[1]}.\n\n### Workarounds\n${words(40)}`,
    ...(severity ? { severity } : {}),
    affected: [affected],
    references: [
      { type: 'ADVISORY', url: `https://github.com/advisories/${id}` },
      ...aliases.map((a) => ({ type: 'ADVISORY', url: `https://nvd.nist.gov/vuln/detail/${a}` })),
      { type: 'WEB', url: `https://github.com/example/${pkg.name}/commit/${randomHex(40)}` },
      { type: 'PACKAGE', url: `https://example.org/${pkg.name}` },
    ],
    database_specific: { cwe_ids: [`CWE-${pick([79, 400, 1321, 22, 444])}`], severity: pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL']), github_reviewed: true },
  };
}

function randomHex(n: number): string {
  return Array.from({ length: n }, () => pick([...'0123456789abcdef'])).join('');
}

/**
 * A minimal deflating zip writer (no zip64: < 65,535 entries, < 4 GiB). yazl, which the tests
 * use, deflates each entry through an async stream: fine for a test's ten entries, minutes for
 * 50,000 on a busy machine. The archive is read back by yauzl, which checks every size and CRC.
 */
class ZipWriter {
  private readonly parts: Buffer[] = [];
  private readonly central: Buffer[] = [];
  private offset = 0;
  count = 0;

  add(name: string, data: Buffer): void {
    const fileName = Buffer.from(name);
    const packed = deflateRawSync(data);
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(0x00210000, 10); // 1980-01-01 00:00
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    local.copy(header, 8, 6, 28); // flags .. name length: the same as the local header
    header.writeUInt32LE(this.offset, 42);
    this.parts.push(local, fileName, packed);
    this.central.push(header, fileName);
    this.offset += local.length + fileName.length + packed.length;
    this.count += 1;
  }

  toBuffer(): Buffer {
    const directory = Buffer.concat(this.central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.count, 8);
    end.writeUInt16LE(this.count, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(this.offset, 16);
    return Buffer.concat([...this.parts, directory, end]);
  }
}

/** Writes the synthetic all.zip; returns how many advisories hit a component. */
async function writeDatabase(zipPath: string, refs: PackageRef[]): Promise<number> {
  const zip = new ZipWriter();
  const add = (id: string, body: object): void => zip.add(`${id}.json`, Buffer.from(JSON.stringify(body, null, 2)));
  let written = 0;
  let hits = 0;
  for (const [i, ref] of refs.entries()) {
    const id = ghsaId();
    const cve = `CVE-2024-${10000 + i}`;
    add(id, advisory(id, ref, ['1.0.0', '9.0.0'], [cve]));
    written += 1;
    hits += 1;
    // PyPI: every fourth also has a PYSEC record for the same CVE (grouped into one finding).
    if (ref.ecosystem === 'PyPI' && i % 4 === 1) {
      add(`PYSEC-2024-${i}`, advisory(`PYSEC-2024-${i}`, ref, ['1.0', '9.0'], [cve]));
      written += 1;
      hits += 1;
    }
    // Half name the component without affecting its version.
    if (i % 2 === 0) {
      const other = ghsaId();
      add(other, advisory(other, ref, ['10.0.0', '10.1.0'], []));
      written += 1;
    }
  }
  for (let j = 0; written < ADVISORIES; j++, written++) {
    const id = j % 5 === 4 ? `PYSEC-2023-${j}` : ghsaId();
    const pkg: Pkg = j % 5 >= 3 ? { ecosystem: 'PyPI', name: `other-py-${j}` } : { ecosystem: 'npm', name: `other-pkg-${j}` };
    add(id, advisory(id, pkg, [`${int(3)}.${int(10)}.0`, `${3 + int(3)}.0.0`], rand() < 0.7 ? [`CVE-2023-${20000 + j}`] : []));
  }
  await writeFile(zipPath, zip.toBuffer());
  return hits;
}

const RUNS = 3;

/**
 * Median of three runs over one generated database. `seconds` is wall time; `cpuSeconds` the
 * process CPU time of the same run (on a busy machine wall time is mostly waiting for a core).
 */
export async function benchVulnsMatch(): Promise<{ components: number; advisories: number; seconds: number; cpuSeconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'govctl-bench-vulns-'));
  try {
    const refs = components();
    const zipPath = join(dir, 'all.zip');
    await writeDatabase(zipPath, refs);
    const runs: { seconds: number; cpuSeconds: number; advisories: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const result = await matchVulns({ components: refs, osvDb: zipPath, fingerprintKey: randomBytes(32) });
      const used = process.cpuUsage(cpu);
      runs.push({ seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, advisories: result.summary.advisories });
      if (result.summary.advisories !== ADVISORIES) throw new Error(`read ${result.summary.advisories} advisories, expected ${ADVISORIES}`);
      if (result.findings.length !== COMPONENTS) throw new Error(`${result.findings.length} findings for ${COMPONENTS} vulnerable components`);
    }
    const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(RUNS / 2)]!;
    return { components: refs.length, ...median };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { components: n, advisories, seconds, cpuSeconds } = await benchVulnsMatch();
  const verdict = seconds < TARGET_SECONDS ? 'PASS' : 'FAIL';
  console.log(
    `vulns-match: ${n} components x ${advisories} advisories (zip): ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores, median of ${RUNS} (target < ${TARGET_SECONDS} s) ${verdict}`,
  );
  if (verdict === 'FAIL') process.exitCode = 1;
}
