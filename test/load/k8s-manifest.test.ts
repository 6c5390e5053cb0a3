import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Job, type IJob } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim, type IContainer, type IPersistentVolumeClaim } from 'kubernetes-models/v1';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { InvalidInputError } from '../../src/core/errors.js';
import { GOVCTL, govctl } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { buildK8sManifest, MERGE_SCRIPT, renderK8sManifest, REPORTS_MOUNT, WAIT_SCRIPT, type K8sManifestOptions } from '../../src/load/k8s-manifest.js';
import type { LoadReport } from '../../src/load/types.js';

const START = new Date('2026-12-02T10:00:00.000Z');

function options(overrides: Partial<K8sManifestOptions> = {}): K8sManifestOptions {
  return {
    name: 'stress-run',
    namespace: 'loadtest',
    image: 'registry.example.com/govctl:0.1.0',
    parallelism: 4,
    profile: 'stress',
    seed: 1234,
    startAt: START,
    loadArgs: ['--url', 'http://governance.default.svc:8080', '--duration', '40s', '--tag', 'team=$(HOME)', '--tag', 'cost=$$5'],
    mergeWaitSeconds: 3600,
    ...overrides,
  };
}

/**
 * Kubernetes' own expansion of `$(VAR)` in command, args and env values
 * (third_party/forked/golang/expansion): `$$` is a literal `$`, an unknown variable stays as written.
 */
function expandK8s(input: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) {
      out += input[i];
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += '$(';
        i += 1;
      } else {
        const name = input.slice(i + 2, close);
        out += Object.hasOwn(vars, name) ? vars[name] : `$(${name})`;
        i = close;
      }
    } else {
      out += `$${next}`;
      i += 1;
    }
  }
  return out;
}

function parts(objects: unknown[]): { claim: IPersistentVolumeClaim; shards: IJob; merge: IJob } {
  const [claim, shards, merge] = objects as [IPersistentVolumeClaim, IJob, IJob];
  return { claim, shards, merge };
}

const loadContainer = (job: IJob): IContainer => job.spec!.template.spec!.containers[0]!;

describe('buildK8sManifest', () => {
  it('produces a PersistentVolumeClaim and two Jobs that validate against the Kubernetes API schema', () => {
    const objects = buildK8sManifest(options());
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`)).toEqual(['v1/PersistentVolumeClaim', 'batch/v1/Job', 'batch/v1/Job']);
    const { claim, shards, merge } = parts(objects);
    expect(() => new PersistentVolumeClaim(claim).validate()).not.toThrow();
    expect(() => new Job(shards).validate()).not.toThrow();
    expect(() => new Job(merge).validate()).not.toThrow();
    for (const object of objects) expect(object.metadata?.namespace).toBe('loadtest');
  });

  it('the validator is not a no-op: a wrong field value fails it', () => {
    const { shards } = parts(buildK8sManifest(options()));
    const broken = structuredClone(shards);
    (broken.spec as { completionMode: string }).completionMode = 'Sharded';
    expect(() => new Job(broken).validate()).toThrow(/completionMode/);
  });

  it('runs the shards as an Indexed Job: one pod per segment, no retries, non-root', () => {
    const { shards } = parts(buildK8sManifest(options({ parallelism: 3, resources: { cpu: '2', memory: '512Mi' } })));
    const spec = shards.spec!;
    expect(shards.metadata?.name).toBe('stress-run-shards');
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.completions).toBe(3);
    expect(spec.parallelism).toBe(3);
    expect(spec.backoffLimit).toBe(0);
    const pod = spec.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    const container = loadContainer(shards);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources).toEqual({ requests: { cpu: '2', memory: '512Mi' }, limits: { cpu: '2', memory: '512Mi' } });
    expect(container.command).toEqual(['govctl']);
    // Keys come from a Secret, never from the manifest itself.
    expect(container.env).toEqual([
      { name: 'GOVCTL_ADMIN_KEY', valueFrom: { secretKeyRef: { name: 'govctl-load', key: 'admin-key', optional: true } } },
      { name: 'GOVCTL_API_KEYS', valueFrom: { secretKeyRef: { name: 'govctl-load', key: 'api-keys', optional: true } } },
    ]);
  });

  it("gives each pod its segment through Kubernetes' own $(JOB_COMPLETION_INDEX) expansion, user values passed literally", () => {
    const { shards } = parts(buildK8sManifest(options()));
    const args = loadContainer(shards).args!;
    expect(args).toContain('$(JOB_COMPLETION_INDEX)/4');
    // What the process of pod 2 receives, after Kubernetes expanded its args.
    const argv = args.map((a) => expandK8s(a, { JOB_COMPLETION_INDEX: '2', HOME: '/home/govctl' }));
    expect(argv).toEqual([
      'load',
      '--profile',
      'stress',
      '--segment',
      '2/4',
      '--start-at',
      '2026-12-02T10:00:00Z',
      '--seed',
      '1234',
      '--out',
      '/reports/stress-run/shards',
      '--url',
      'http://governance.default.svc:8080',
      '--duration',
      '40s',
      '--tag',
      'team=$(HOME)',
      '--tag',
      'cost=$$5',
    ]);
  });

  it('shares one ReadWriteMany claim between the shards and the merge step', () => {
    const { claim, shards, merge } = parts(buildK8sManifest(options({ claim: { name: 'load-reports', storage: '5Gi', storageClassName: 'nfs' } })));
    expect(claim.metadata?.name).toBe('load-reports');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'nfs' });
    for (const job of [shards, merge]) {
      expect(job.spec!.template.spec!.volumes).toContainEqual({ name: 'reports', persistentVolumeClaim: { claimName: 'load-reports' } });
      expect(loadContainer(job).volumeMounts).toContainEqual({ name: 'reports', mountPath: '/reports' });
    }
  });

  it('merges once every shard report is in: a bounded wait, then govctl report merge over the glob', () => {
    const { merge } = parts(buildK8sManifest(options({ mergeWaitSeconds: 900 })));
    const pod = merge.spec!.template.spec!;
    expect(merge.spec!.backoffLimit).toBe(0);
    expect(pod.restartPolicy).toBe('Never');
    const wait = pod.initContainers![0]!;
    const run = pod.containers[0]!;
    // The scripts reach sh exactly as written (their `$` escaped from Kubernetes' expansion).
    expect(wait.command!.slice(0, 2)).toEqual(['sh', '-c']);
    expect(expandK8s(wait.command![2]!, {})).toBe(WAIT_SCRIPT);
    expect(expandK8s(run.command![2]!, {})).toBe(MERGE_SCRIPT);
    // ... and read in the manifest exactly as they run: nothing in them needed escaping.
    expect([wait.command![2], run.command![2]]).toEqual([WAIT_SCRIPT, MERGE_SCRIPT]);
    expect(run.env).toEqual([
      { name: 'REPORTS_DIR', value: '/reports/stress-run' },
      { name: 'SHARDS', value: '4' },
      { name: 'WAIT_SECONDS', value: '900' },
      { name: 'GOVCTL', value: 'govctl' },
    ]);
    // No user input is in the scripts: values travel in the environment.
    expect(WAIT_SCRIPT + MERGE_SCRIPT).not.toMatch(/stress|registry|governance\.default/);
  });

  it('refuses bad input naming the option', () => {
    const bad: Array<[Partial<K8sManifestOptions>, RegExp]> = [
      [{ parallelism: 0 }, /parallelism 0/],
      [{ parallelism: 1.5 }, /parallelism 1.5/],
      [{ image: '' }, /image ""/],
      [{ image: 'my image' }, /image "my image"/],
      [{ name: 'Stress_Run' }, /name "Stress_Run".*DNS-1123/],
      [{ name: 'a'.repeat(41) }, /name "a{41}"/],
      [{ namespace: 'Load Test' }, /namespace/],
      [{ claim: { name: 'Reports!' } }, /claim name/],
      [{ resources: { cpu: 'lots' } }, /cpu "lots"/],
      [{ resources: { memory: '0' } }, /memory "0"/],
      [{ seed: -1 }, /seed -1/],
      [{ mergeWaitSeconds: 0 }, /merge wait 0/],
    ];
    for (const [overrides, message] of bad) {
      const attempt = () => buildK8sManifest(options(overrides));
      expect(attempt).toThrow(InvalidInputError);
      expect(attempt).toThrow(message);
    }
  });
});

describe('renderK8sManifest', () => {
  it('writes multi-document YAML that parses back to the same objects, also as YAML 1.1 (kubectl)', () => {
    const objects = buildK8sManifest(options());
    const yaml = renderK8sManifest(objects, 'yaml');
    for (const version of ['1.2', '1.1'] as const) {
      const docs = parseAllDocuments(yaml, { version });
      expect(Array.isArray(docs) ? docs.map((d) => d.errors) : []).toEqual([[], [], []]);
      // A YAML 1.1 reader must see the start time as a string, not a timestamp.
      expect((docs as Array<{ toJS(): unknown }>).map((d) => d.toJS())).toEqual(objects);
    }
    expect(yaml).toContain('$(JOB_COMPLETION_INDEX)/4');
    // Every object spelled out: no YAML anchors or aliases for shared parts.
    expect(yaml).not.toMatch(/: [&*]a\d/);
  });

  it('writes a JSON List with -o json', () => {
    const objects = buildK8sManifest(options());
    expect(JSON.parse(renderK8sManifest(objects, 'json'))).toEqual({ apiVersion: 'v1', kind: 'List', items: objects });
  });
});

describe('the merge step scripts under a real sh', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-k8s-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function shard(runId: string): Promise<string> {
    const path = join(dir, 'shards', runId, 'load.json');
    await mkdir(join(dir, 'shards', runId), { recursive: true });
    await writeFile(path, '{}');
    return path;
  }

  const sh = (script: string, env: Record<string, string>) =>
    execa('sh', ['-c', script], { env: { PATH: process.env['PATH'] ?? '', ...env }, extendEnv: false, reject: false, timeout: 30_000 });

  it('the wait ends as soon as every shard report is there', async () => {
    await shard('a');
    await shard('b');
    const result = await sh(WAIT_SCRIPT, { REPORTS_DIR: dir, SHARDS: '2', WAIT_SECONDS: '600' });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('all 2 shard reports are in');
  });

  it('the wait gives up at its deadline, saying how many arrived', async () => {
    await shard('a');
    const result = await sh(WAIT_SCRIPT, { REPORTS_DIR: dir, SHARDS: '3', WAIT_SECONDS: '0' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`1 of 3 shard reports in ${dir}/shards`);
  });

  it('the wait counts nothing in an empty directory', async () => {
    const result = await sh(WAIT_SCRIPT, { REPORTS_DIR: dir, SHARDS: '1', WAIT_SECONDS: '0' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('0 of 1 shard reports');
  });

  it('the merge passes every shard report to govctl report merge', async () => {
    const paths = [await shard('b'), await shard('a')].sort();
    const fake = join(dir, 'fake-govctl');
    await writeFile(fake, '#!/bin/sh\nfor arg in "$@"; do echo "$arg"; done\n');
    await chmod(fake, 0o755);
    const result = await sh(MERGE_SCRIPT, { REPORTS_DIR: dir, GOVCTL: fake });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toEqual(['report', 'merge', ...paths, '--out', `${dir}/merged`]);
  });
});

describe('govctl load k8s (the built CLI)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-k8s-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  // No config file and no GOVCTL_URL: only what the test passes counts.
  const env = () => ({ GOVCTL_CONFIG: join(dir, 'config.json') });
  const base = ['load', 'k8s', '--profile', 'stress', '--parallelism', '3', '--image', 'registry.example.com/govctl:0.1.0'];

  it('writes a manifest whose objects validate, shards starting together in about a minute', async () => {
    const before = Date.now();
    const result = await govctl([...base, '--url', 'http://governance.default.svc:8080', '--duration', '40s', '--seed', '7', '-o', 'json'], env());
    expect(result.exitCode).toBe(0);
    const list = JSON.parse(result.stdout) as { kind: string; items: Array<IPersistentVolumeClaim | IJob> };
    expect(list.kind).toBe('List');
    const { claim, shards, merge } = parts(list.items);
    new PersistentVolumeClaim(claim).validate();
    new Job(shards).validate();
    new Job(merge).validate();
    const args = loadContainer(shards).args!;
    expect(args.slice(args.indexOf('--segment'), args.indexOf('--segment') + 2)).toEqual(['--segment', '$(JOB_COMPLETION_INDEX)/3']);
    expect(args.slice(args.indexOf('--seed'), args.indexOf('--seed') + 2)).toEqual(['--seed', '7']);
    const startAt = Date.parse(args[args.indexOf('--start-at') + 1]!);
    expect(startAt - before).toBeGreaterThanOrEqual(59_000);
    expect(result.stderr).toContain('start together');
  });

  it('writes the manifest to --manifest as YAML', async () => {
    const file = join(dir, 'run.yaml');
    const result = await govctl([...base, '--url', 'http://governance:8080', '--manifest', file], env());
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('');
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    expect((docs as Array<{ toJS(): { kind: string } }>).map((d) => d.toJS().kind)).toEqual(['PersistentVolumeClaim', 'Job', 'Job']);
  });

  it('refuses what cannot go into a manifest: no server, API keys, credentials in the URL', async () => {
    const noUrl = await govctl(base, env());
    expect(noUrl.exitCode).toBe(2);
    expect(noUrl.stderr).toContain('pass --url');

    const keys = await govctl([...base, '--url', 'http://governance:8080', '--api-key', 'sekrit-token-value'], env());
    expect(keys.exitCode).toBe(2);
    expect(keys.stderr).toContain('Secret');
    expect(keys.stderr).not.toContain('sekrit-token-value');

    const credentials = await govctl([...base, '--url', 'http://admin:hunter2@governance:8080'], env());
    expect(credentials.exitCode).toBe(2);
    expect(credentials.stderr).not.toContain('hunter2');

    const zero = await govctl([...base.slice(0, 5), '0', ...base.slice(6), '--url', 'http://governance:8080'], env());
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain('--parallelism');
  });
});

describe("the manifest's own commands, run as local processes", () => {
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-k8s-local-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('N shards with JOB_COMPLETION_INDEX set, then the merge step: counts summed, thresholds evaluated once', async () => {
    const server = await startTestServer({ rateLimit: { limit: 1_000_000, windowMs: 60_000 } });
    cleanups.push(() => server.close());
    const N = 2;
    // The shards' boot time is the only lead the shared start needs here.
    const objects = buildK8sManifest(
      options({ name: 'local', parallelism: N, profile: 'normal', startAt: new Date(Date.now() + 2_000), loadArgs: ['--url', server.url, '--duration', '2s'] }),
    );
    const { shards, merge } = parts(objects);
    const local = (text: string) => text.replace(REPORTS_MOUNT, dir);
    const env = { GOVCTL_ADMIN_KEY: server.adminToken, GOVCTL_CONFIG: join(dir, 'config.json') };
    const runs = await Promise.all(
      Array.from({ length: N }, (_, index) =>
        govctl(['-q', ...loadContainer(shards).args!.map((a) => local(expandK8s(a, { JOB_COMPLETION_INDEX: String(index) })))], env),
      ),
    );
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);

    // The merge pod: its environment as the manifest sets it, the volume at the temp dir.
    const podEnv = Object.fromEntries(merge.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, local(e.value!)]));
    const fake = join(dir, 'govctl');
    await writeFile(fake, `#!/bin/sh\nexec '${process.execPath}' '${GOVCTL}' "$@"\n`);
    await chmod(fake, 0o755);
    const sh = (script: string) => execa('sh', ['-c', script], { env: { PATH: process.env['PATH'] ?? '', ...env, ...podEnv, GOVCTL: fake }, extendEnv: false, reject: false, timeout: 60_000 });
    const waited = await sh(WAIT_SCRIPT);
    expect(waited.exitCode, waited.stderr).toBe(0);
    const merged = await sh(`${MERGE_SCRIPT.trim()} -o json`);
    expect(merged.exitCode, merged.stderr).toBe(0);

    const { files } = JSON.parse(merged.stdout) as { files: { json: string } };
    expect(files.json.startsWith(join(dir, 'local', 'merged'))).toBe(true);
    const result = JSON.parse(await readFile(files.json, 'utf8')) as LoadReport;
    const shardDir = join(dir, 'local', 'shards');
    const shardReports = await Promise.all(
      (await readdir(shardDir)).map(async (id) => JSON.parse(await readFile(join(shardDir, id, 'load.json'), 'utf8')) as LoadReport),
    );
    expect(shardReports.map((r) => r.data.options.segment).sort((a, b) => a!.index - b!.index)).toEqual([
      { index: 0, count: 2 },
      { index: 1, count: 2 },
    ]);
    const sum = (pick: (r: LoadReport) => number) => shardReports.reduce((n, r) => n + pick(r), 0);
    expect(result.data.totals.requests).toBe(sum((r) => r.data.totals.requests));
    expect(result.data.totals.ok).toBe(sum((r) => r.data.totals.ok));
    expect(result.data.options.segment).toBeNull();
    const expressions = Object.values(result.data.profile.thresholds).flat().length;
    expect(result.data.thresholds).toHaveLength(expressions);
  });
});
