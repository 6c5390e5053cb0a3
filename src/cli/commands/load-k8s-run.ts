import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { writeFileDurable } from '../../core/durable-write.js';
import { parseDuration, parsePositiveDuration } from '../../core/duration.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { ensureWritableFile, withFileSystemErrors } from '../../core/fs-errors.js';
import { hasCredentials } from '../../core/url-credentials.js';
import { buildK8sManifest, K8S_DEFAULTS, renderK8sManifest, REPORTS_MOUNT } from '../../load/k8s-manifest.js';
import type { CliApp } from '../app.js';

/** Flags of `govctl load k8s` (declared by `govctl load`); numbers arrive as text. */
export interface LoadK8sFlags {
  profile: string;
  parallelism: string;
  image: string;
  namespace?: string;
  /** Where the manifest goes: a file; "-" or absent: stdout. (`--out` is the shards' report dir, set by the manifest.) */
  manifest?: string;
  /** Base name of the objects (default govctl-load-<start time>). */
  name?: string;
  /** The shared ReadWriteMany claim (default govctl-reports), its size and storage class. */
  claim?: string;
  storage?: string;
  storageClass?: string;
  /** Secret with optional keys admin-key / api-keys (default govctl-load). */
  secret?: string;
  /** Per shard; requests = limits. */
  cpu?: string;
  memory?: string;
  /** Lead time before the shards start together (default 60s). */
  startIn?: string;
  /** How long the merge step waits for every shard (default: lead + duration + 10 min, or 2 h). */
  mergeTimeout?: string;
  // Passed through to every shard's `govctl load`.
  duration?: string;
  vus?: string;
  rate?: string;
  seed?: string;
  scenario?: string;
  /** The target; else the global --url, GOVCTL_URL or the context's URL. */
  url?: string;
  tag?: string[];
  workers?: string;
  maxVus?: string;
  // `govctl load` flags that have no meaning here: refused rather than silently dropped.
  apiKey?: string[];
  baseline?: string;
  saveBaseline?: boolean;
  segment?: string;
  startAt?: string;
}

const DEFAULT_START_IN = '60s';
const MERGE_MARGIN_S = 600;
const UNKNOWN_DURATION_WAIT_S = 2 * 3600;

/** Writes the manifest of a distributed run; the cluster runs it (`kubectl apply -f`). */
export async function loadK8sCommand(app: CliApp, flags: LoadK8sFlags): Promise<number> {
  refuseFlags(flags);
  const parallelism = integer(flags.parallelism, '--parallelism', 1);
  const seed = flags.seed === undefined ? randomInt(0, 2 ** 31) : integer(flags.seed, '--seed', 0);
  const startInMs = parseDuration(flags.startIn ?? DEFAULT_START_IN, '--start-in');
  // Whole seconds: the same instant however each shard's clock library prints it.
  const startAt = new Date(Math.ceil((Date.now() + startInMs) / 1000) * 1000);
  const durationS = flags.duration === undefined ? undefined : Math.ceil(parsePositiveDuration(flags.duration, '--duration') / 1000);
  const mergeWaitSeconds =
    flags.mergeTimeout !== undefined
      ? Math.ceil(parsePositiveDuration(flags.mergeTimeout, '--merge-timeout') / 1000)
      : Math.ceil(startInMs / 1000) + (durationS === undefined ? UNKNOWN_DURATION_WAIT_S : durationS + MERGE_MARGIN_S);

  const url = flags.url ?? (await app.connection()).url;
  if (url === undefined) {
    // Each pod would start its own embedded server and load it: a number about nothing shared.
    throw new UsageError('govctl load k8s needs the server to load: pass --url (the address the pods reach it at)');
  }
  checkUrl(url);
  for (const tag of flags.tag ?? []) {
    if (!/^[^=]+=.*$/.test(tag)) throw new UsageError(`invalid --tag "${tag}": expected key=value`);
  }

  const loadArgs = [
    '--url',
    url,
    ...optional('--duration', flags.duration),
    ...optional('--vus', flags.vus),
    ...optional('--rate', flags.rate),
    ...optional('--scenario', flags.scenario),
    ...optional('--max-vus', flags.maxVus),
    ...(flags.workers !== undefined && flags.workers !== '1' ? ['--workers', flags.workers] : []),
    ...(flags.tag ?? []).flatMap((tag) => ['--tag', tag]),
  ];
  const name = flags.name ?? `govctl-load-${startAt.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
  const objects = buildK8sManifest({
    name,
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    image: flags.image,
    parallelism,
    profile: flags.profile,
    seed,
    startAt,
    loadArgs,
    claim: {
      ...(flags.claim !== undefined ? { name: flags.claim } : {}),
      ...(flags.storage !== undefined ? { storage: flags.storage } : {}),
      ...(flags.storageClass !== undefined ? { storageClassName: flags.storageClass } : {}),
    },
    resources: { ...(flags.cpu !== undefined ? { cpu: flags.cpu } : {}), ...(flags.memory !== undefined ? { memory: flags.memory } : {}) },
    ...(flags.secret !== undefined ? { secretName: flags.secret } : {}),
    mergeWaitSeconds,
  });
  const text = renderK8sManifest(objects, app.json ? 'json' : 'yaml');

  const toFile = flags.manifest !== undefined && flags.manifest !== '-';
  if (toFile) {
    const path = resolve(app.io.cwd, flags.manifest!);
    await ensureWritableFile(path, true);
    await withFileSystemErrors('write', path, () => writeFileDurable(path, text));
    app.info(`wrote ${path}`);
  } else {
    app.io.stdout.write(text);
  }
  const claim = flags.claim ?? K8S_DEFAULTS.claimName;
  const seconds = Math.round((startAt.getTime() - Date.now()) / 1000);
  app.info(
    `${parallelism} shard(s) of "${flags.profile}" (seed ${seed}) start together at ${startAt.toISOString()}, in ${seconds} s: ` +
      `apply before then (kubectl apply -f ${toFile ? flags.manifest! : '-'}). The merged report goes to ${REPORTS_MOUNT}/${name}/merged on claim ${claim}; ` +
      `the merge step waits up to ${mergeWaitSeconds} s for the shards.`,
  );
  return ExitCode.ok;
}

function refuseFlags(flags: LoadK8sFlags): void {
  if (flags.apiKey !== undefined && flags.apiKey.length > 0) {
    throw new UsageError('--api-key would write the keys into the manifest: put them in the Secret instead (key "api-keys", comma-separated)', {
      hint: `kubectl create secret generic ${flags.secret ?? K8S_DEFAULTS.secretName} --from-literal=api-keys=...`,
    });
  }
  const set = (
    [
      ['--segment', flags.segment],
      ['--start-at', flags.startAt],
      ['--baseline', flags.baseline],
      ['--save-baseline', flags.saveBaseline],
    ] as const
  ).filter(([, value]) => value !== undefined && value !== false);
  if (set.length > 0) {
    throw new UsageError(`${set.map(([flag]) => flag).join(', ')} cannot be used with load k8s: the manifest sets each shard's segment and the shared start time, and thresholds are evaluated on the merged report (compare it with govctl report compare)`);
  }
}

function integer(text: string, flag: string, min: number): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`invalid ${flag} "${text}": expected a whole number of at least ${min}`);
  return value;
}

function optional(flag: string, value: string | undefined): string[] {
  return value === undefined ? [] : [flag, value];
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid --url "${url}": expected an http(s) URL the pods can reach, e.g. http://governance.default.svc:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`invalid --url "${url}": expected http or https`);
  // A manifest is shared and committed: it must not carry credentials.
  if (hasCredentials(url)) throw new UsageError('the --url carries credentials, which would be written into the manifest; give the server URL without them (keys go in the Secret)');
}
