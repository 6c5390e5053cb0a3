/**
 * SBOM benchmark (issue 10): `govctl audit --sbom` against @cyclonedx/cyclonedx-npm, end to end,
 * on the same lockfiles; then vulnerability matching (bench/vulns-match.ts).
 *
 *   npm run bench:sbom [-- --runs 5 --theirs-runs 3 --skip-vulns]
 *
 * 1. Lockfiles: this project's package-lock.json, and test/fixtures/audit/npm/large (>= 1,000
 *    packages: `npm install --package-lock-only` of a set of big packages, committed, so the bench
 *    runs offline).
 * 2. Times `node bin/govctl.js audit --sbom --dir D --reproducible --out <tmp>` (node start-up,
 *    imports, parse, build, validate, serialise, write) --runs times and
 *    `cyclonedx-npm --package-lock-only --output-file <tmp>` --theirs-runs times, interleaved so
 *    both see the same machine load, and takes medians.
 * 3. Checks that both SBOMs list the same purl set (cyclonedx-npm's nested components flattened,
 *    qualifiers stripped), and prints times, ratios and PASS/FAIL against >= 3x faster.
 * 4. Measures, each in a fresh process, what validating the large SBOM costs with the library's
 *    Validation.JsonStrictValidator (ajv compiles the schema) and with the precompiled validator
 *    that `npm run build` generates (scripts/build-cyclonedx-validators.mjs).
 * 5. Runs benchVulnsMatch (1,000 components, 50,000-advisory zip; target < 5 s).
 * Writes reports/bench-sbom-<timestamp>.json; exit code 1 when a target fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PackageURL } from 'packageurl-js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'theirs-runs': { type: 'string', default: '3' },
    'skip-vulns': { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const THEIRS_RUNS = Number(values['theirs-runs']);
for (const [name, v] of [['--runs', RUNS], ['--theirs-runs', THEIRS_RUNS]] as const) {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
}
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GOVCTL_BIN = join(REPO, 'bin', 'govctl.js');
const CYCLONEDX_NPM = join(REPO, 'node_modules', '.bin', 'cyclonedx-npm');
const TARGET_RATIO = 3;
const TARGET_VULNS_SECONDS = 5;
const MIN_LARGE = 1_000;

// ---------------------------------------------------------------------------------------------

interface Timed {
  seconds: number;
  out: string;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): number {
  const started = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${relative(REPO, cmd) || cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  return seconds;
}

// A fixed fingerprint key: without one, govctl keeps a new key in <dir>/.govctl (a fixture dir).
const GOVCTL_ENV = { ...process.env, GOVCTL_FINGERPRINT_KEY: 'bench-sbom-fingerprint-key' };

function govctl(dir: string, work: string): Timed {
  const out = mkdtempSync(join(work, 'govctl-'));
  const seconds = run(process.execPath, [GOVCTL_BIN, 'audit', '--sbom', '--dir', dir, '--reproducible', '--fail-on', 'none', '--out', out, '-o', 'json'], REPO, GOVCTL_ENV);
  const [runDir] = readdirSync(out);
  return { seconds, out: join(out, runDir!, 'sbom.cdx.json') };
}

function cyclonedxNpm(dir: string, work: string): Timed {
  const out = join(mkdtempSync(join(work, 'cdxnpm-')), 'bom.json');
  const seconds = run(CYCLONEDX_NPM, ['--package-lock-only', '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', out], dir);
  return { seconds, out };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface CdxComponent {
  purl?: string;
  components?: CdxComponent[];
}

/** Every purl of a BOM's components, nested ones included, without qualifiers or subpath. */
function purlSet(file: string): Set<string> {
  const bom = JSON.parse(readFileSync(file, 'utf8')) as { components?: CdxComponent[] };
  const purls = new Set<string>();
  const walk = (list: CdxComponent[] | undefined) => {
    for (const c of list ?? []) {
      if (c.purl) {
        const p = PackageURL.fromString(c.purl);
        purls.add(new PackageURL(p.type, p.namespace, p.name, p.version, undefined, undefined).toString());
      }
      walk(c.components);
    }
  };
  walk(bom.components);
  return purls;
}

/** name@version pairs a lockfile installs (what both tools should list). */
function lockPackages(dir: string): number {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { name?: string; version?: string; link?: boolean }> };
  const ids = new Set<string>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.link || !entry.version) continue;
    ids.add(`${entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 13)}@${entry.version}`);
  }
  return ids.size;
}

/** The npm parser's large test fixture: a real `npm install --package-lock-only` output. */
function largeFixture(): string {
  const dir = join(REPO, 'test', 'fixtures', 'audit', 'npm', 'large');
  if (!existsSync(join(dir, 'package-lock.json'))) throw new Error(`${relative(REPO, dir)}/package-lock.json is missing`);
  const n = lockPackages(dir);
  if (n < MIN_LARGE) throw new Error(`${relative(REPO, dir)}/package-lock.json has ${n} packages, fewer than ${MIN_LARGE}`);
  return dir;
}

// ---------------------------------------------------------------------------------------------

interface CaseResult {
  name: string;
  dir: string;
  lock_packages: number;
  govctl_seconds: number[];
  cyclonedx_npm_seconds: number[];
  govctl_median: number;
  cyclonedx_npm_median: number;
  ratio: number;
  purls: { govctl: number; cyclonedx_npm: number; equal: boolean; only_govctl: string[]; only_cyclonedx_npm: string[] };
  passed: boolean;
}

function benchCase(name: string, dir: string, work: string): CaseResult {
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  // Interleaved: a load spike from elsewhere on the machine hits both tools.
  for (let i = 0; i < Math.max(RUNS, THEIRS_RUNS); i++) {
    if (i < RUNS) ours.push(govctl(dir, work));
    if (i < THEIRS_RUNS) theirs.push(cyclonedxNpm(dir, work));
  }
  const a = purlSet(ours[0]!.out);
  const b = purlSet(theirs[0]!.out);
  const onlyA = [...a].filter((p) => !b.has(p));
  const onlyB = [...b].filter((p) => !a.has(p));
  const govctlMedian = median(ours.map((t) => t.seconds));
  const theirsMedian = median(theirs.map((t) => t.seconds));
  const ratio = theirsMedian / govctlMedian;
  const equal = onlyA.length === 0 && onlyB.length === 0;
  return {
    name,
    dir: relative(REPO, dir) || '.',
    lock_packages: lockPackages(dir),
    govctl_seconds: ours.map((t) => round(t.seconds)),
    cyclonedx_npm_seconds: theirs.map((t) => round(t.seconds)),
    govctl_median: round(govctlMedian),
    cyclonedx_npm_median: round(theirsMedian),
    ratio: round(ratio, 2),
    purls: { govctl: a.size, cyclonedx_npm: b.size, equal, only_govctl: onlyA.slice(0, 10), only_cyclonedx_npm: onlyB.slice(0, 10) },
    passed: equal && ratio >= TARGET_RATIO,
  };
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** Cold cost (fresh process) of loading a validator and validating `file` once. */
function validatorCost(file: string, precompiled: boolean): { kind: string; load_ms: number; validate_ms: number } {
  const module = pathToFileURL(join(REPO, 'dist', 'audit', 'sbom', 'cyclonedx-validate.js')).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const text = readFileSync(${JSON.stringify(file)}, 'utf8');
    const t0 = performance.now();
    const { cyclonedxValidator } = await import(${JSON.stringify(module)});
    const v = await cyclonedxValidator('1.6', ${precompiled ? '{}' : '{ precompiledDir: null }'});
    const t1 = performance.now();
    // The library compiles on the first validate: time a trivial document first, then the SBOM.
    await v.validate('{"bomFormat":"CycloneDX","specVersion":"1.6"}');
    const t2 = performance.now();
    const problem = await v.validate(text);
    const t3 = performance.now();
    if (problem) throw new Error(problem);
    console.log(JSON.stringify({ kind: v.kind, load_ms: t2 - t0, validate_ms: t3 - t2 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`validator timing failed:\n${r.stderr}`);
  const m = JSON.parse(r.stdout) as { kind: string; load_ms: number; validate_ms: number };
  return { kind: m.kind, load_ms: Math.round(m.load_ms), validate_ms: Math.round(m.validate_ms) };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  console.log(`machine: ${osType()} ${release()}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (a shared machine: figures are indicative)`);
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench:sbom does)');
  const precompiled = existsSync(join(REPO, 'dist', 'audit', 'sbom', 'cyclonedx-validators', 'bom-1.6.cjs'));
  console.log(`precompiled CycloneDX validators: ${precompiled ? 'present (dist/audit/sbom/cyclonedx-validators)' : 'MISSING: govctl falls back to the library validator'}`);
  const haveTheirs = existsSync(CYCLONEDX_NPM);
  let theirsVersion = '';
  if (haveTheirs) theirsVersion = spawnSync(CYCLONEDX_NPM, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(haveTheirs ? `cyclonedx-npm: ${theirsVersion} (node_modules/.bin/cyclonedx-npm)` : 'cyclonedx-npm: NOT FOUND at node_modules/.bin/cyclonedx-npm (a dev dependency: run npm install); no comparison possible');

  const work = mkdtempSync(join(tmpdir(), 'govctl-bench-sbom-'));
  const cases: CaseResult[] = [];
  let validators: { library: ReturnType<typeof validatorCost>; precompiled: ReturnType<typeof validatorCost> } | undefined;
  try {
    if (haveTheirs) {
      const large = largeFixture();
      for (const [name, dir] of [['this project', REPO], ['large', large]] as const) {
        process.stdout.write(`\n${name} (${relative(REPO, dir) || '.'}/package-lock.json, ${lockPackages(dir)} packages): ${RUNS} govctl + ${THEIRS_RUNS} cyclonedx-npm runs ...\n`);
        const c = benchCase(name, dir, work);
        cases.push(c);
        console.log(`  govctl        median ${c.govctl_median.toFixed(3)} s  [${c.govctl_seconds.join(', ')}]`);
        console.log(`  cyclonedx-npm median ${c.cyclonedx_npm_median.toFixed(3)} s  [${c.cyclonedx_npm_seconds.join(', ')}]`);
        console.log(`  purls: govctl ${c.purls.govctl}, cyclonedx-npm ${c.purls.cyclonedx_npm}: ${c.purls.equal ? 'same set' : `DIFFERENT (only govctl: ${c.purls.only_govctl.join(' ')}; only cyclonedx-npm: ${c.purls.only_cyclonedx_npm.join(' ')})`}`);
        console.log(`  ratio ${c.ratio.toFixed(2)}x (target >= ${TARGET_RATIO}x): ${c.passed ? 'PASS' : 'FAIL'}`);
      }
      const largeSbom = govctl(large, work).out;
      validators = { library: validatorCost(largeSbom, false), precompiled: validatorCost(largeSbom, true) };
      console.log(`\nvalidating the large SBOM in a fresh process (load = import + compile or load; then one validation):`);
      console.log(`  library JsonStrictValidator: load+compile ${validators.library.load_ms} ms, validate ${validators.library.validate_ms} ms`);
      console.log(`  precompiled (${validators.precompiled.kind}):     load ${validators.precompiled.load_ms} ms, validate ${validators.precompiled.validate_ms} ms`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  let vulns: { components: number; advisories: number; seconds: number; passed: boolean } | undefined;
  if (!values['skip-vulns']) {
    const file = join(REPO, 'bench', 'vulns-match.ts');
    if (!existsSync(file)) console.log('\nvulnerability matching: bench/vulns-match.ts not found: skipped');
    else {
      console.log('\nvulnerability matching (bench/vulns-match.ts) ...');
      const { benchVulnsMatch } = (await import(pathToFileURL(file).href)) as { benchVulnsMatch: () => Promise<{ components: number; advisories: number; seconds: number }> };
      const r = await benchVulnsMatch();
      vulns = { components: r.components, advisories: r.advisories, seconds: round(r.seconds), passed: r.seconds < TARGET_VULNS_SECONDS };
      console.log(`  ${r.components} components x ${r.advisories} advisories: ${r.seconds.toFixed(2)} s (target < ${TARGET_VULNS_SECONDS} s): ${vulns.passed ? 'PASS' : 'FAIL'}`);
    }
  }

  const passed = haveTheirs && cases.every((c) => c.passed) && (vulns?.passed ?? true);
  const report = {
    schema: 'govctl.bench-sbom/v1',
    finished_at: new Date().toISOString(),
    machine: { os: `${osType()} ${release()}`, cpus: cpus().length, node: process.version, loadavg_end: loadavg().map((l) => round(l, 2)) },
    cyclonedx_npm: haveTheirs ? theirsVersion : null,
    target_ratio: TARGET_RATIO,
    cases,
    validators: validators ?? null,
    vulns: vulns ?? null,
    passed,
  };
  mkdirSync(join(REPO, 'reports'), { recursive: true });
  const reportFile = join(REPO, 'reports', `bench-sbom-${report.finished_at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${passed ? 'PASS' : 'FAIL'}: report ${relative(REPO, reportFile)}`);
  return passed ? 0 : 1;
}

process.exitCode = await main();
