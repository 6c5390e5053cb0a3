import type { IJob } from 'kubernetes-models/batch/v1';
import type { IContainer, IEnvVar, IPersistentVolumeClaim, IPodSecurityContext, ISecurityContext } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { InvalidInputError } from '../core/errors.js';

/**
 * `govctl load k8s`: a distributed run as Kubernetes objects. Kubernetes does the distribution
 * (an Indexed Job, one pod per segment); govctl only describes it. The shards write their reports
 * to a shared volume and a merge Job combines them with `govctl report merge`, so thresholds are
 * evaluated once, on the whole run. (The kubernetes-models types are compile-time only.)
 */

export type K8sObject = IPersistentVolumeClaim | IJob;

export interface K8sManifestOptions {
  /** Base name (DNS-1123 label, at most 40 characters): `<name>-shards`, `<name>-merge`. */
  name: string;
  namespace?: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Shards: completions = parallelism = this. */
  parallelism: number;
  /** Profile name or a path inside the image. */
  profile: string;
  /** The run's seed; each segment offsets it, so shards do not send identical sequences. */
  seed: number;
  /** When every shard starts sending (the pods wait for it, so they start together). */
  startAt: Date;
  /** More `govctl load` flags for every shard (--url, --duration, --tag ...), passed as given. */
  loadArgs?: string[];
  /** The shared ReadWriteMany volume for the reports (created by the manifest). */
  claim?: { name?: string; storage?: string; storageClassName?: string };
  /** Requests = limits (Guaranteed QoS: a throttled generator measures itself, not the target). */
  resources?: { cpu?: string; memory?: string };
  /** Secret (optional keys `admin-key`, `api-keys`) for GOVCTL_ADMIN_KEY / GOVCTL_API_KEYS. */
  secretName?: string;
  /** How long the merge step waits for every shard's report before it gives up. */
  mergeWaitSeconds: number;
  /** The govctl executable in the image. */
  command?: string;
}

export const K8S_DEFAULTS = {
  claimName: 'govctl-reports',
  storage: '1Gi',
  cpu: '1',
  memory: '1Gi',
  secretName: 'govctl-load',
  command: 'govctl',
  imagePullPolicy: 'IfNotPresent',
} as const;

/** Where the shared volume is mounted in every pod. */
export const REPORTS_MOUNT = '/reports';
const MAX_SHARDS = 10_000;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const UID = 1000;

/**
 * Kubernetes expands `$(VAR)` in command, args and env values, and turns `$$` into `$`; any other
 * `$` is kept. Doubling each `$` that starts either makes a string reach the process exactly as given.
 */
export function escapeK8sExpansion(text: string): string {
  return text.replace(/\$(?=[$(])/g, '$$$$');
}

/**
 * The merge pod's init container: wait (bounded) until every shard's load.json is there. Reports
 * are renamed into place when complete, so a present file is a finished one. Values come from
 * the environment; nothing a user typed is part of the script. (Backquotes and expr rather than
 * `$(...)`, which Kubernetes would take for its own expansion.)
 */
export const WAIT_SCRIPT = `set -u
now=\`date +%s\`
deadline=\`expr "$now" + "$WAIT_SECONDS"\`
while :; do
  set -- "$REPORTS_DIR"/shards/*/load.json
  found=$#
  [ -e "$1" ] || found=0
  if [ "$found" -ge "$SHARDS" ]; then
    echo "all $SHARDS shard reports are in"
    exit 0
  fi
  now=\`date +%s\`
  if [ "$now" -ge "$deadline" ]; then
    echo "gave up after $WAIT_SECONDS s: $found of $SHARDS shard reports in $REPORTS_DIR/shards" >&2
    exit 1
  fi
  sleep 5
done
`;

/** The merge container: a shell only for the glob. */
export const MERGE_SCRIPT = `exec "$GOVCTL" report merge "$REPORTS_DIR"/shards/*/load.json --out "$REPORTS_DIR/merged"\n`;

/** The objects of a distributed run: the reports volume, the shard Job and the merge Job. */
export function buildK8sManifest(options: K8sManifestOptions): K8sObject[] {
  const o = resolveOptions(options);
  const runDir = `${REPORTS_MOUNT}/${o.name}`;
  const meta = (component: string, name: string) => ({
    name,
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    labels: labels(o.name, component),
  });

  const claim: IPersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: o.claimName,
      ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
      labels: { 'app.kubernetes.io/name': 'govctl', 'app.kubernetes.io/component': 'load-reports' },
    },
    spec: {
      // Shards on different nodes write to it at once.
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: o.storage } },
      ...(o.storageClassName !== undefined ? { storageClassName: o.storageClassName } : {}),
    },
  };

  const shardArgs = [
    'load',
    '--profile',
    escapeK8sExpansion(o.profile),
    // Kubernetes itself puts the pod's index in: no shell needed.
    '--segment',
    `$(JOB_COMPLETION_INDEX)/${o.parallelism}`,
    '--start-at',
    o.startAt.toISOString().replace(/\.000Z$/, 'Z'),
    '--seed',
    String(o.seed),
    '--out',
    `${runDir}/shards`,
    ...o.loadArgs.map(escapeK8sExpansion),
  ];

  const shards: IJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('load-shard', `${o.name}-shards`),
    spec: {
      completionMode: 'Indexed',
      completions: o.parallelism,
      parallelism: o.parallelism,
      // A shard retried later would start late and add a second report: the run is void instead.
      backoffLimit: 0,
      activeDeadlineSeconds: o.mergeWaitSeconds,
      template: {
        metadata: { labels: labels(o.name, 'load-shard') },
        spec: {
          restartPolicy: 'Never',
          securityContext: POD_SECURITY,
          // Shards on separate nodes where possible, so they do not compete for one node's CPU.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: 'kubernetes.io/hostname',
                    labelSelector: { matchLabels: labels(o.name, 'load-shard') },
                  },
                },
              ],
            },
          },
          containers: [
            container(o, 'load', [escapeK8sExpansion(o.command)], shardArgs, [
              secretEnv('GOVCTL_ADMIN_KEY', o.secretName, 'admin-key'),
              secretEnv('GOVCTL_API_KEYS', o.secretName, 'api-keys'),
            ]),
          ],
          volumes: volumes(o.claimName),
        },
      },
    },
  };

  const mergeEnv: IEnvVar[] = [
    { name: 'REPORTS_DIR', value: runDir },
    { name: 'SHARDS', value: String(o.parallelism) },
    { name: 'WAIT_SECONDS', value: String(o.mergeWaitSeconds) },
    { name: 'GOVCTL', value: escapeK8sExpansion(o.command) },
  ];
  const merge: IJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('load-merge', `${o.name}-merge`),
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 0,
      activeDeadlineSeconds: o.mergeWaitSeconds + 600,
      template: {
        metadata: { labels: labels(o.name, 'load-merge') },
        spec: {
          restartPolicy: 'Never',
          securityContext: POD_SECURITY,
          initContainers: [container(o, 'wait-for-shards', ['sh', '-c', escapeK8sExpansion(WAIT_SCRIPT)], [], mergeEnv, SMALL)],
          containers: [container(o, 'merge', ['sh', '-c', escapeK8sExpansion(MERGE_SCRIPT)], [], mergeEnv)],
          volumes: volumes(o.claimName),
        },
      },
    },
  };

  return [claim, shards, merge];
}

/**
 * Multi-document YAML (quoted as YAML 1.1 needs: kubectl would read `yes` or a timestamp as such;
 * no anchors, every object spelled out), or a JSON `List`.
 */
export function renderK8sManifest(objects: K8sObject[], format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return objects.map((object) => `---\n${stringify(object, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}

type Resolved = Required<Omit<K8sManifestOptions, 'claim' | 'resources' | 'namespace'>> & {
  namespace?: string;
  claimName: string;
  storage: string;
  storageClassName?: string;
  cpu: string;
  memory: string;
};

function resolveOptions(options: K8sManifestOptions): Resolved {
  const fail = (what: string, value: unknown, expected: string) => {
    throw new InvalidInputError(`invalid ${what} ${JSON.stringify(value)}: expected ${expected}`);
  };
  const label = (what: string, value: string, max = 63) => {
    if (value.length > max || !DNS_LABEL.test(value)) fail(what, value, `a DNS-1123 label of at most ${max} characters (lower-case letters, digits and "-", starting and ending with a letter or digit)`);
    return value;
  };
  const text = (what: string, value: string) => {
    // eslint-disable-next-line no-control-regex
    if (value.trim() === '' || /[\x00-\x1f\x7f]/.test(value)) fail(what, value, 'a non-empty value without control characters');
    return value;
  };
  const quantity = (what: string, value: string) => {
    if (!QUANTITY.test(value) || Number.parseFloat(value) <= 0) fail(what, value, 'a positive Kubernetes quantity, e.g. 500m, 2, 512Mi or 1Gi');
    return value;
  };

  const { parallelism, seed, mergeWaitSeconds } = options;
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_SHARDS) fail('parallelism', parallelism, `an integer from 1 to ${MAX_SHARDS}`);
  if (!Number.isSafeInteger(seed) || seed < 0) fail('seed', seed, 'a non-negative integer');
  if (!Number.isInteger(mergeWaitSeconds) || mergeWaitSeconds < 1) fail('merge wait', mergeWaitSeconds, 'a whole number of seconds, at least 1');
  if (Number.isNaN(options.startAt.getTime())) fail('start time', String(options.startAt), 'a valid date');
  // `<name>-shards-<index>` is each pod's hostname: it must stay a DNS label.
  const name = label('name', options.name, 40);
  const namespace = options.namespace === undefined ? undefined : label('namespace', options.namespace);
  const claimName = options.claim?.name ?? K8S_DEFAULTS.claimName;
  if (claimName.length > 253 || !DNS_SUBDOMAIN.test(claimName)) fail('claim name', claimName, 'a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")');
  const secretName = options.secretName ?? K8S_DEFAULTS.secretName;
  if (secretName.length > 253 || !DNS_SUBDOMAIN.test(secretName)) fail('secret name', secretName, 'a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")');
  const storageClassName = options.claim?.storageClassName;
  if (storageClassName !== undefined && (storageClassName.length > 253 || !DNS_SUBDOMAIN.test(storageClassName))) fail('storage class', storageClassName, 'a DNS-1123 subdomain');
  const image = text('image', options.image);
  if (/\s/.test(image)) fail('image', image, 'an image reference without spaces, e.g. registry.example.com/govctl:0.1.0');

  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    image,
    imagePullPolicy: options.imagePullPolicy ?? K8S_DEFAULTS.imagePullPolicy,
    parallelism,
    profile: text('profile', options.profile),
    seed,
    startAt: options.startAt,
    loadArgs: options.loadArgs ?? [],
    claimName,
    storage: quantity('storage', options.claim?.storage ?? K8S_DEFAULTS.storage),
    ...(storageClassName !== undefined ? { storageClassName } : {}),
    cpu: quantity('cpu', options.resources?.cpu ?? K8S_DEFAULTS.cpu),
    memory: quantity('memory', options.resources?.memory ?? K8S_DEFAULTS.memory),
    secretName,
    mergeWaitSeconds,
    command: text('command', options.command ?? K8S_DEFAULTS.command),
  };
}

function labels(name: string, component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'govctl', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': component };
}

const POD_SECURITY: IPodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: UID,
  runAsGroup: UID,
  // Makes the reports volume writable by that user (where the volume type supports it).
  fsGroup: UID,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
};

const CONTAINER_SECURITY: ISecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const SMALL = { cpu: '100m', memory: '64Mi' };

function volumes(claimName: string) {
  return [
    { name: 'reports', persistentVolumeClaim: { claimName } },
    // The root file system is read-only; Node and govctl may still need a scratch directory.
    { name: 'tmp', emptyDir: {} },
  ];
}

function container(o: Resolved, name: string, command: string[], args: string[], env: IEnvVar[], size = { cpu: o.cpu, memory: o.memory }): IContainer {
  return {
    name,
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    command,
    ...(args.length > 0 ? { args } : {}),
    env,
    resources: { requests: { ...size }, limits: { ...size } },
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: 'reports', mountPath: REPORTS_MOUNT },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

function secretEnv(name: string, secret: string, key: string): IEnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key, optional: true } } };
}
