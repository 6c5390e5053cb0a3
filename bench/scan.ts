/**
 * End-to-end secrets-scan benchmark (issue: scan secrets / patterns): govctl against secretlint on a
 * generated corpus with planted secrets.
 *
 *   npm run bench:scan [-- --size-mb 110 --runs 3 --secretlint-runs 1 --skip-secretlint --keep]
 *
 * 1. Writes a deterministic (seeded) corpus of source-like text to a temp dir: TS/JS/Python/Go/
 *    YAML/JSON/Markdown/.env/.pem files whose lines hold identifiers, strings, comments and the
 *    words key/token/secret/password used innocently (plus documented placeholders such as the
 *    AWS docs key id, `changeme`, `${VAR}`), and plants synthetic secrets of many provider formats
 *    at known (file, line). Every value is random (sfc32 seeded via splitmix32), none is a real
 *    credential; private key bodies are random base64, not DER. The manifest of plants (file,
 *    line, kind; never the value) is written beside the corpus, not in it.
 * 2. Times `node bin/govctl.js scan secrets <corpus> -o json --fail-on none` end to end (process
 *    start-up included, default workers) --runs times and takes the median. A planted secret is
 *    found when a finding sits at its file and line (for a multi-line private key: any line of
 *    the block); every other finding counts as a false positive.
 * 3. Runs secretlint (recommended preset) over the same corpus: installs it with npm into a cache
 *    dir outside the repo when it is missing, then scores its JSON output the same way.
 * 4. Prints machine, corpus, times, MB/s, recall (overall and per kind), false positives, the
 *    speed ratio and PASS/FAIL against the targets (govctl < 10 s, recall 100 %, >= 10x faster
 *    than secretlint); writes reports/bench-scan-<timestamp>.json; exit code 1 when a target fails.
 *
 * Flags: --size-mb N (default 110; MB = 2^20 bytes throughout), --runs N (3), --secretlint-runs N
 * (1), --skip-secretlint, --skip-shards (do not also time secretlint split into one invocation per
 * top-level directory, a reference figure: secretlint slows down with file count), --keep (keep the corpus and print where), --reuse DIR (score a kept run
 * dir instead of generating one; never removed), --seed N, --single (also time one
 * single-threaded govctl run, --workers 0), --secretlint-dir DIR (install cache; default
 * ~/.cache/govctl-bench/secretlint or $GOVCTL_BENCH_CACHE/secretlint).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, release, tmpdir, totalmem, type as osType } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '110' },
    runs: { type: 'string', default: '3' },
    'secretlint-runs': { type: 'string', default: '1' },
    'skip-secretlint': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    seed: { type: 'string', default: '20261122' },
    single: { type: 'boolean', default: false },
    'skip-shards': { type: 'boolean', default: false },
    'secretlint-dir': { type: 'string' },
  },
});
const SIZE_MB = Number(values['size-mb']);
const RUNS = Number(values.runs);
const SL_RUNS = Number(values['secretlint-runs']);
const SEED = Number(values.seed) >>> 0;
for (const [name, v] of [['--size-mb', SIZE_MB], ['--runs', RUNS], ['--secretlint-runs', SL_RUNS]] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
}
const MB = 1024 * 1024;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GOVCTL_BIN = join(REPO, 'bin', 'govctl.js');
const TARGET_SECONDS = 10;
const TARGET_RATIO = 10;

// ---------------------------------------------------------------------------------------------
// Randomness: sfc32 seeded through splitmix32 (every output bit usable; no LCG low-bit cycles).

function splitmix32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    const sm = splitmix32(seed);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

const text = new Rng(SEED);
const secret = new Rng(SEED ^ 0x5ec2e7);

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const B62 = UPPER + LOWER + DIGITS;
const B64URL = B62 + '-_';
const B64 = B62 + '+/';
const HEX = '0123456789abcdef';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const b64url = (buf: Buffer): string => buf.toString('base64url');
const uuid4 = (r: Rng): string => {
  const b = r.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

// ---------------------------------------------------------------------------------------------
// Innocent text.

const WORDS = [
  'user', 'account', 'request', 'response', 'handler', 'config', 'options', 'value', 'result',
  'error', 'message', 'policy', 'decision', 'score', 'risk', 'limit', 'rate', 'window', 'cache',
  'client', 'server', 'session', 'token', 'key', 'auth', 'password', 'secret', 'item', 'list',
  'index', 'count', 'total', 'name', 'path', 'file', 'buffer', 'stream', 'event', 'state',
  'context', 'logger', 'metrics', 'status', 'headers', 'body', 'query', 'params', 'payload',
  'timestamp', 'duration', 'retry', 'backoff', 'queue', 'worker', 'task', 'job', 'batch', 'store',
  'record', 'entry', 'table', 'schema', 'model', 'provider', 'service', 'router', 'route', 'mask',
  'access', 'stack', 'order', 'invoice', 'tenant', 'project', 'audit', 'admin', 'credential',
  'signature', 'digest', 'nonce', 'scope', 'grant', 'refresh', 'upload', 'download', 'report',
];
const ENGLISH = [
  'the', 'a', 'of', 'to', 'and', 'is', 'in', 'for', 'this', 'that', 'when', 'with', 'returns',
  'value', 'if', 'not', 'be', 'we', 'it', 'on', 'are', 'both', 'each', 'key', 'so', 'as', 'by',
  'should', 'request', 'only', 'once', 'after', 'before', 'called', 'task', 'token', 'secret',
  'password', 'rotate', 'expires', 'cache', 'retry', 'user', 'client', 'server', 'config', 'file',
];
const TYPES = ['string', 'number', 'boolean', 'void', 'Promise<void>', 'Record<string, unknown>', 'User', 'Policy'];
const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);
const ident = (): string => {
  const n = 1 + text.int(3);
  let s = text.pick(WORDS);
  for (let i = 1; i < n; i++) s += cap(text.pick(WORDS));
  return s;
};
const pascal = (): string => cap(ident());
const snake = (): string => {
  const n = 1 + text.int(3);
  let s = text.pick(WORDS);
  for (let i = 1; i < n; i++) s += '_' + text.pick(WORDS);
  return s;
};
const sentence = (): string => {
  const n = 4 + text.int(10);
  let s = text.pick(ENGLISH);
  for (let i = 1; i < n; i++) s += ' ' + text.pick(ENGLISH);
  return s;
};
const num = (n = 1000): number => text.int(n);
const hex = (n: number): string => text.chars(HEX, n);

type Gen = () => string;
// Line pools per file type: ordinary lines, and (one line in ten) innocent lines that look like
// secrets or name them: placeholders, env lookups, hashes, UUIDs, prompts, docs examples.
const TS_LINES: Gen[] = [
  () => `  const ${ident()} = await ${ident()}.${ident()}(${ident()}, { ${ident()}: ${num()} });`,
  () => `  if (!${ident()}.${ident()}) throw new Error('${sentence()}');`,
  () => `  // ${sentence()}`,
  () => `  return ${ident()}.map((${ident()}) => ${ident()}.${ident()} * ${num(100)});`,
  () => `import { ${ident()}, ${ident()} } from './${snake()}.js';`,
  () => `export async function ${ident()}(${ident()}: ${text.pick(TYPES)}, ${ident()}: number): Promise<${text.pick(TYPES)}> {`,
  () => `  }`,
  () => ``,
  () => `    ${ident()}.${ident()}[${ident()}] = ${ident()}.${ident()} ?? '${text.pick(WORDS)}';`,
  () => `  for (const ${ident()} of ${ident()}) ${ident()}.push(${ident()});`,
  () => `  const headers = { 'content-type': 'application/json', authorization: \`Bearer \${${ident()}}\` };`,
  () => `  const ${ident()}Key = process.env.${snake().toUpperCase()}_KEY;`,
  () => `  logger.info({ ${ident()}, ${ident()} }, '${sentence()}');`,
  () => `  const url = \`https://api.${text.pick(WORDS)}.internal/v1/${text.pick(WORDS)}/\${${ident()}}\`;`,
  () => `  /** ${sentence()}. */`,
  () => `export interface ${pascal()} { ${ident()}: ${text.pick(TYPES)}; ${ident()}?: ${text.pick(TYPES)} }`,
];
const TS_RARE: Gen[] = [
  () => `  const passwordInput = form.querySelector<HTMLInputElement>('input[type=password]');`,
  () => `  if (token === undefined) throw new AuthError('missing token for ${text.pick(WORDS)}');`,
  () => `  const cacheKey = \`${text.pick(WORDS)}:\${${ident()}}:${text.pick(WORDS)}\`;`,
  () => `  const tokenKey = '${snake()}';`,
  () => `  headers['x-api-key'] = config.apiKey;`,
  () => `  const secretName = \`projects/\${projectId}/secrets/${snake()}/versions/latest\`;`,
  () => `  const requestId = '${uuid4(text)}';`,
  () => `  expect(hash).toBe('${hex(64)}');`,
  () => `  const password = await prompt('Password for ${text.pick(WORDS)}: ');`,
];
const PY_LINES: Gen[] = [
  () => `    ${snake()} = ${snake()}.${snake()}(${snake()}, ${snake()}=${num(100)})`,
  () => `def ${snake()}(self, ${snake()}, ${snake()}=None):`,
  () => `    # ${sentence()}`,
  () => `    if ${snake()} is None:`,
  () => `        raise ValueError("${sentence()}")`,
  () => `    return {"${snake()}": ${snake()}, "${snake()}": ${num(1e6)}}`,
  () => `from ${snake()}.${snake()} import ${snake()}, ${pascal()}`,
  () => `    password = os.environ["${snake().toUpperCase()}_PASSWORD"]`,
  () => `    for ${snake()} in ${snake()}:`,
  () => ``,
  () => `class ${pascal()}(${pascal()}):`,
  () => `    """${sentence()}."""`,
  () => `        logger.debug("%s ${sentence()}", ${snake()})`,
];
const PY_RARE: Gen[] = [
  () => `    token = request.headers.get("Authorization", "").removeprefix("Bearer ")`,
  () => `    password = getpass.getpass("Password: ")`,
  () => `    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY")`,
  () => `    api_key = settings.${snake().toUpperCase()}_API_KEY`,
  () => `    digest = hashlib.sha256(${snake()}.encode()).hexdigest()  # ${sentence()}`,
  () => `    assert checksum == "${hex(40)}"`,
];
const GO_LINES: Gen[] = [
  () => `\t${ident()} := ${ident()}.${pascal()}(ctx, ${ident()})`,
  () => `\tif err != nil {`,
  () => `\t\treturn nil, fmt.Errorf("${sentence()}: %w", err)`,
  () => `\t}`,
  () => `func (s *${pascal()}) ${pascal()}(ctx context.Context, ${ident()} string) error {`,
  () => `\t// ${sentence()}`,
  () => `}`,
  () => ``,
];
const GO_RARE: Gen[] = [
  () => `\ttoken, err := s.tokens.Issue(ctx, ${ident()})`,
  () => `\tkey := fmt.Sprintf("%s:%d", ${ident()}, ${num()})`,
  () => `type ${pascal()} struct { ${pascal()} string \`json:"${snake()}"\`; ${pascal()} int \`json:"${snake()}"\` }`,
];
const YAML_LINES: Gen[] = [
  () => `  ${snake()}: ${text.pick(WORDS)}`,
  () => `    ${snake()}: ${num()}`,
  () => `  - name: ${snake()}`,
  () => `    image: registry.internal/${text.pick(WORDS)}:${num(10)}.${num(10)}.${num(30)}`,
];
const YAML_RARE: Gen[] = [
  () => `    token: \${{ secrets.${snake().toUpperCase()} }}`,
  () => `        password: \${{ secrets.DB_PASSWORD }}`,
  () => `  # ${sentence()}`,
  () => `      secretKeyRef: { name: ${text.pick(WORDS)}-credentials, key: password }`,
  () => `    api_key: "{{ vault_${snake()} }}"`,
  () => `    enabled: ${text.pick(['true', 'false'])}`,
  () => `    timeout_ms: ${num(60000)}`,
  () => `  ${snake()}:`,
];
const JSON_ENTRIES: Gen[] = [
  () => `  "${ident()}": "${text.pick(WORDS)}"`,
  () => `  "${ident()}": ${num(100000)}`,
  () => `  "${ident()}": { "${ident()}": ${text.pick(['true', 'false', 'null'])}, "${ident()}": "${sentence()}" }`,
  () => `  "${ident()}": ["${text.pick(WORDS)}", "${text.pick(WORDS)}", "${text.pick(WORDS)}"]`,
];
const JSON_RARE: Gen[] = [
  () => `  "${text.pick(WORDS)}-${text.pick(WORDS)}": { "version": "${num(10)}.${num(20)}.${num(30)}", "resolved": "https://registry.npmjs.org/${text.pick(WORDS)}/-/${text.pick(WORDS)}-${num(10)}.${num(20)}.${num(30)}.tgz", "integrity": "sha512-${b64url(text.bytes(64)).replace(/-/g, '+').replace(/_/g, '/')}==" }`,
  () => `  "commit_${num(1e6)}": { "sha": "${hex(40)}", "message": "${sentence()}" }`,
  () => `  "${ident()}Id": "${uuid4(text)}"`,
  () => `  "tokenType": "Bearer"`,
  () => `  "passwordPolicy": { "minLength": ${8 + num(8)}, "requireSymbol": true }`,
];
const MD_LINES: Gen[] = [
  () => cap(sentence()) + '.',
  () => cap(sentence()) + ', ' + sentence() + '.',
  () => `- ${sentence()}`,
  () => `## ${cap(text.pick(WORDS))} ${text.pick(WORDS)}`,
  () => '',
];
const MD_RARE: Gen[] = [
  () => `Set \`${snake().toUpperCase()}_TOKEN\` to a token with the \`${text.pick(WORDS)}\` scope; ${sentence()}.`,
  () => `| \`${snake()}\` | ${text.pick(['string', 'number', 'bool'])} | ${sentence()} |`,
  () => '`aws_access_key_id = AKIAIOSFODNN7EXAMPLE` is the documentation example; never commit a real one.',
  () => 'Send `Authorization: Bearer <your-token>` with every request.',
  () => `The password must be rotated every ${num(90)} days.`,
];
const ENV_LINES: Gen[] = [
  () => `${snake().toUpperCase()}=${text.pick(WORDS)}`,
  () => `PORT=${1024 + num(60000)}`,
  () => `LOG_LEVEL=${text.pick(['debug', 'info', 'warn'])}`,
  () => `# ${sentence()}`,
];
const ENV_RARE: Gen[] = [
  () => `API_KEY=your-api-key-here`,
  () => `DB_PASSWORD=changeme`,
  () => `JWT_SECRET=\${JWT_SECRET}`,
  () => `SESSION_SECRET=`,
  () => `${snake().toUpperCase()}_URL=https://${text.pick(WORDS)}.internal:${num(9000)}`,
];

// ---------------------------------------------------------------------------------------------
// Planted secrets.

type FileType = 'ts' | 'js' | 'py' | 'go' | 'yaml' | 'json' | 'md' | 'env' | 'pem';
interface Plant {
  lines: string[];
  /** index in `lines` of the line the finding is expected on */
  at: number;
  /** last line of a multi-line block (private keys) */
  end: number;
}
interface Kind {
  id: string;
  names: readonly string[];
  value?: () => string;
  /** Only detectable next to its name (e.g. an AWS secret key): always planted as `name = value`. */
  contextual?: boolean;
  /** Multi-line private key: header, body lines, footer. */
  pem?: () => { header: string; body: string[]; footer: string };
}

const wrapBody = (b64: string, width: number): string[] => {
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += width) out.push(b64.slice(i, i + width));
  return out;
};
const pemOf = (label: string, bytes: [number, number], width: number) => () => ({
  header: `-----BEGIN ${label}-----`,
  body: wrapBody(secret.bytes(secret.range(bytes[0], bytes[1])).toString('base64'), width),
  footer: `-----END ${label}-----`,
});
const awsKeyId = (): string => {
  for (;;) {
    const v = 'AKIA' + secret.chars(B32, 16);
    if (!v.includes('EXAMPLE')) return v;
  }
};
const password = (): string => secret.chars(B62, secret.range(16, 28));
const host = (): string => `${secret.pick(['db', 'pg', 'orders-db', 'primary', 'replica-1', 'cache', 'mq'])}.${secret.pick(['internal', 'prod.internal', 'eu-west-1.rds.amazonaws.com', 'svc.cluster.local'])}`;

const KINDS: Kind[] = [
  { id: 'aws-access-key-id', names: ['AWS_ACCESS_KEY_ID', 'AWS_KEY_ID', 'S3_ACCESS_KEY'], value: awsKeyId },
  { id: 'aws-secret-access-key', names: ['AWS_SECRET_ACCESS_KEY', 'AWS_SECRET_KEY'], contextual: true, value: () => secret.chars(B64, 40) },
  { id: 'github-pat', names: ['GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_PAT'], value: () => 'ghp_' + secret.chars(B62, 36) },
  { id: 'github-fine-grained-pat', names: ['GITHUB_TOKEN', 'GH_PAT'], value: () => 'github_pat_' + secret.chars(B62, 22) + '_' + secret.chars(B62, 59) },
  { id: 'gitlab-pat', names: ['GITLAB_TOKEN', 'CI_JOB_PAT'], value: () => 'glpat-' + secret.chars(B64URL, 20) },
  { id: 'slack-bot-token', names: ['SLACK_BOT_TOKEN', 'SLACK_TOKEN'], value: () => `xoxb-${secret.chars(DIGITS, secret.range(10, 13))}-${secret.chars(DIGITS, secret.range(12, 13))}-${secret.chars(B62, 24)}` },
  { id: 'slack-webhook-url', names: ['SLACK_WEBHOOK_URL', 'ALERTS_WEBHOOK'], value: () => `https://hooks.slack.com/services/T${secret.chars(UPPER + DIGITS, 8)}/B${secret.chars(UPPER + DIGITS, 10)}/${secret.chars(B62, 24)}` },
  { id: 'stripe-live-secret-key', names: ['STRIPE_SECRET_KEY', 'STRIPE_API_KEY'], value: () => 'sk_live_' + secret.chars(B62, secret.pick([24, 99])) },
  { id: 'openai-project-key', names: ['OPENAI_API_KEY'], value: () => 'sk-proj-' + secret.chars(B64URL, 74) + 'T3BlbkFJ' + secret.chars(B64URL, 74) },
  { id: 'anthropic-api-key', names: ['ANTHROPIC_API_KEY', 'CLAUDE_API_KEY'], value: () => 'sk-ant-api03-' + secret.chars(B64URL, 93) + 'AA' },
  { id: 'google-api-key', names: ['GOOGLE_API_KEY', 'MAPS_API_KEY', 'FIREBASE_API_KEY'], value: () => 'AIza' + secret.chars(B64URL, 35) },
  { id: 'npm-token', names: ['NPM_TOKEN', 'NODE_AUTH_TOKEN'], value: () => 'npm_' + secret.chars(B62, 36) },
  { id: 'sendgrid-api-key', names: ['SENDGRID_API_KEY', 'MAIL_API_KEY'], value: () => `SG.${secret.chars(B64URL, 22)}.${secret.chars(B64URL, 43)}` },
  { id: 'huggingface-token', names: ['HF_TOKEN', 'HUGGINGFACE_TOKEN'], value: () => 'hf_' + secret.chars(UPPER + LOWER, 34) },
  { id: 'digitalocean-pat', names: ['DIGITALOCEAN_TOKEN', 'DO_TOKEN'], value: () => 'dop_v1_' + secret.chars(HEX, 64) },
  { id: 'shopify-access-token', names: ['SHOPIFY_ACCESS_TOKEN'], value: () => 'shpat_' + secret.chars(HEX, 32) },
  {
    id: 'database-url',
    names: ['DATABASE_URL', 'DB_URL', 'SQLALCHEMY_DATABASE_URI', 'REDIS_URL', 'MONGO_URI', 'AMQP_URL'],
    value: () => {
      const user = secret.pick(['app', 'orders_rw', 'svc_api', 'postgres', 'reporting', 'etl']);
      switch (secret.int(6)) {
        case 0: return `postgres://${user}:${password()}@${host()}:5432/${secret.pick(['orders', 'app', 'billing'])}`;
        case 1: return `postgresql://${user}:${password()}@${host()}/${secret.pick(['orders', 'app'])}?sslmode=require`;
        case 2: return `mysql://${user}:${password()}@${host()}:3306/${secret.pick(['shop', 'app'])}`;
        case 3: return `mongodb+srv://${user}:${password()}@cluster${secret.int(9)}.${secret.chars(LOWER + DIGITS, 5)}.mongodb.net/${secret.pick(['app', 'events'])}?retryWrites=true`;
        case 4: return `redis://:${password()}@${host()}:6379/${secret.int(16)}`;
        default: return `amqps://${user}:${password()}@${host()}:5671/${secret.pick(['prod', 'jobs'])}`;
      }
    },
  },
  { id: 'url-basic-auth', names: ['REGISTRY_URL', 'GIT_REMOTE', 'ARTIFACTORY_URL'], value: () => `https://${secret.pick(['deploy', 'ci-bot', 'builder'])}:${password()}@${secret.pick(['git', 'artifacts', 'registry'])}.${secret.pick(['corp', 'internal'])}.net/${secret.pick(['repo', 'api/npm', 'releases'])}` },
  {
    id: 'jwt',
    names: ['ACCESS_TOKEN', 'ID_TOKEN', 'SERVICE_JWT', 'AUTH_TOKEN'],
    value: () => {
      const header = b64url(Buffer.from(JSON.stringify({ alg: secret.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' })));
      const now = 1_760_000_000 + secret.int(10_000_000);
      const payload = b64url(Buffer.from(JSON.stringify({ sub: uuid4(secret), iss: `https://auth.${secret.pick(['corp', 'internal'])}.net/`, scope: secret.pick(['read', 'read write', 'admin']), iat: now, exp: now + 3600 })));
      return `${header}.${payload}.${b64url(secret.bytes(secret.pick([32, 64])))}`;
    },
  },
  { id: 'govctl-api-token', names: ['GOVCTL_TOKEN', 'GOVCTL_API_KEY', 'GOVERNANCE_TOKEN'], value: () => `${uuid4(secret)}.${b64url(secret.bytes(32))}` },
  { id: 'private-key-rsa', names: ['PRIVATE_KEY', 'JWT_SIGNING_KEY', 'TLS_KEY'], pem: pemOf('RSA PRIVATE KEY', [1190, 1220], 64) },
  { id: 'private-key-openssh', names: ['SSH_PRIVATE_KEY', 'DEPLOY_KEY'], pem: pemOf('OPENSSH PRIVATE KEY', [380, 420], 70) },
  { id: 'private-key-ec', names: ['EC_PRIVATE_KEY', 'SIGNING_KEY'], pem: pemOf('EC PRIVATE KEY', [118, 122], 64) },
];

const camel = (name: string): string => name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const one = (line: string): Plant => ({ lines: [line], at: 0, end: 0 });

function plantValue(type: FileType, name: string, v: string, contextual: boolean): Plant {
  const c = camel(name);
  const s = name.toLowerCase();
  // Forms where the name is not right before the value are used only for self-identifying formats.
  const loose = !contextual;
  switch (type) {
    case 'ts':
    case 'js':
      return one(secret.pick([`const ${c} = '${v}';`, `  ${c}: "${v}",`, `export const ${name} = \`${v}\`;`, ...(loose ? [`    ${c} = process.env.${name} ?? '${v}';`] : [])]));
    case 'py':
      return one(secret.pick([`${name} = "${v}"`, `        ${s}="${v}",`, ...(loose ? [`    os.environ.setdefault("${name}", '${v}')`] : [])]));
    case 'go':
      return one(secret.pick([`\t${c} := "${v}"`, `const ${c} = "${v}"`]));
    case 'yaml':
      if (loose && secret.chance(0.3)) return { lines: [`        - name: ${name}`, `          value: "${v}"`], at: 1, end: 1 };
      return one(secret.pick([`  ${s}: ${v}`, `    ${s}: "${v}"`]));
    case 'json':
      return one(`  "${c}": "${v}"`);
    case 'env':
    case 'pem':
      return one(secret.pick([`${name}=${v}`, `export ${name}="${v}"`]));
    case 'md':
      if (contextual || secret.chance(0.5)) return { lines: ['```sh', `export ${name}=${v}`, '```'], at: 1, end: 1 };
      return one(`For the staging run we used \`${v}\` as ${name}.`);
  }
}

function plantPem(type: FileType, name: string, key: { header: string; body: string[]; footer: string }): Plant {
  const { header, body, footer } = key;
  const c = camel(name);
  const block = (first: string, last: string, indent = ''): Plant => {
    const lines = [first, ...body.map((l) => indent + l), last];
    return { lines, at: 0, end: lines.length - 1 };
  };
  const escaped = `${header}\\n${body.join('\\n')}\\n${footer}\\n`;
  switch (type) {
    case 'pem':
      return block(header, footer);
    case 'ts':
    case 'js':
      return block(`const ${c} = \`${header}`, `${footer}\`;`);
    case 'go':
      return block(`var ${c} = \`${header}`, `${footer}\``);
    case 'py':
      return block(`${name} = """${header}`, `${footer}"""`);
    case 'yaml': {
      const lines = [`  ${name.toLowerCase()}: |`, `    ${header}`, ...body.map((l) => `    ${l}`), `    ${footer}`];
      return { lines, at: 1, end: lines.length - 1 };
    }
    case 'json':
      return one(`  "${c}": "${escaped}"`);
    case 'env':
      return one(`${name}="${escaped}"`);
    case 'md': {
      const lines = ['```', header, ...body, footer, '```'];
      return { lines, at: 1, end: lines.length - 2 };
    }
  }
}

function makePlant(kind: Kind, type: FileType): Plant {
  const name = secret.pick(kind.names);
  return kind.pem ? plantPem(type, name, kind.pem()) : plantValue(type, name, kind.value!(), kind.contextual === true);
}

// ---------------------------------------------------------------------------------------------
// Corpus.

interface PlantRecord {
  file: string;
  line: number;
  end_line: number;
  kind: string;
}
interface Corpus {
  files: number;
  bytes: number;
  plants: PlantRecord[];
}

type TextType = Exclude<FileType, 'pem'>;
const POOLS: Record<TextType, Gen[]> = { ts: TS_LINES, js: TS_LINES, py: PY_LINES, go: GO_LINES, yaml: YAML_LINES, json: JSON_ENTRIES, md: MD_LINES, env: ENV_LINES };
const RARE: Record<TextType, Gen[]> = { ts: TS_RARE, js: TS_RARE, py: PY_RARE, go: GO_RARE, yaml: YAML_RARE, json: JSON_RARE, md: MD_RARE, env: ENV_RARE };
const RARE_SHARE = 0.1;
const TYPE_WEIGHTS: Array<[FileType, number]> = [['ts', 24], ['js', 14], ['py', 20], ['go', 7], ['yaml', 10], ['json', 10], ['md', 10], ['env', 4], ['pem', 1]];
const TYPE_TOTAL = TYPE_WEIGHTS.reduce((a, [, w]) => a + w, 0);
const pickType = (): FileType => {
  let r = text.int(TYPE_TOTAL);
  for (const [t, w] of TYPE_WEIGHTS) if ((r -= w) < 0) return t;
  return 'ts';
};
const TOP = ['services', 'packages', 'apps', 'libs', 'tools', 'deploy', 'infra', 'docs', 'scripts', 'examples'];
const PRIVATE_KINDS = KINDS.filter((k) => k.pem);

function generateCorpus(dir: string, targetBytes: number): Corpus {
  const plants: PlantRecord[] = [];
  const used = new Set<string>();
  let bytes = 0;
  let files = 0;
  let untilPlant = secret.range(20_000, 60_000);
  let kindCursor = 0; // round-robin start so every kind is planted about equally often
  const nextKind = (): Kind => KINDS[(kindCursor++ + secret.int(3)) % KINDS.length]!;
  const dirs = Array.from({ length: 120 }, () => {
    const depth = 1 + text.int(3);
    const parts = [text.pick(TOP), `${text.pick(WORDS)}-${text.pick(WORDS)}`];
    for (let i = 1; i < depth; i++) parts.push(text.pick(['src', 'lib', 'internal', 'handlers', 'models', 'config', 'util', 'api', 'jobs', 'test']));
    return parts.join('/');
  });

  while (bytes < targetBytes) {
    const type = pickType();
    const base = text.pick(dirs);
    const name =
      type === 'env' ? `.env${text.pick(['', '.local', '.production', '.staging', '.dev'])}`
      : type === 'pem' ? `${text.pick(['keys', 'certs', 'secrets'])}/${snake()}.${text.pick(['pem', 'key'])}`
      : `${type === 'py' || type === 'yaml' ? snake() : ident()}.${type === 'yaml' ? text.pick(['yaml', 'yml']) : type}`;
    let rel = `${base}/${name}`;
    if (used.has(rel)) rel = `${base}/m${files}/${name}`;
    used.add(rel);

    const lines: string[] = [];
    const record = (p: Plant, kind: Kind): void => {
      const first = lines.length + 1 + (type === 'json' ? 1 : 0); // json: the opening brace is line 1
      plants.push({ file: rel, line: first + p.at, end_line: first + p.end, kind: kind.id });
      lines.push(...p.lines);
    };
    if (type === 'pem') {
      const kind = text.pick(PRIVATE_KINDS);
      record(makePlant(kind, 'pem'), kind);
    } else {
      // File size: mostly small, some large (1 KB .. 256 KB); .env files stay small.
      const r = text.float();
      const size = type === 'env' ? text.range(200, 3000) : r < 0.6 ? text.range(1000, 16_000) : r < 0.9 ? text.range(16_000, 64_000) : text.range(64_000, 256_000);
      const pool = POOLS[type];
      const rare = RARE[type];
      let fileBytes = 0;
      let envPlants = type === 'env' ? 1 + text.int(3) : 0;
      while (fileBytes < size) {
        const line = text.chance(RARE_SHARE) ? rare[text.int(rare.length)]!() : pool[text.int(pool.length)]!();
        lines.push(line);
        fileBytes += line.length + 1;
        untilPlant -= line.length + 1;
        const wantEnv = envPlants > 0 && text.chance(0.2);
        if (untilPlant <= 0 || wantEnv) {
          if (wantEnv) envPlants--;
          else untilPlant = secret.range(20_000, 60_000);
          const kind = nextKind();
          record(makePlant(kind, type), kind);
        }
      }
      while (envPlants-- > 0) {
        const kind = nextKind();
        record(makePlant(kind, type), kind);
      }
    }
    const content = type === 'json' ? `{\n${lines.join(',\n')}\n}\n` : lines.join('\n') + '\n';
    const abs = join(dir, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    bytes += Buffer.byteLength(content);
    files++;
  }
  return { files, bytes, plants };
}

// ---------------------------------------------------------------------------------------------
// Scoring.

interface Finding {
  rule: string;
  file: string;
  line: number;
  evidence?: string;
}
interface Score {
  found: number;
  planted: number;
  recall: number;
  at_planted: number;
  false_positives: number;
  fp_by_rule: Record<string, number>;
  fp_samples: Array<{ rule: string; file: string; line: number; text: string }>;
  per_kind: Record<string, { planted: number; found: number; rules: Record<string, number>; missed_samples: string[] }>;
}

function score(plants: PlantRecord[], findings: Finding[], corpusDir: string): Score {
  const at = new Map<string, number[]>();
  plants.forEach((p, i) => {
    for (let l = p.line; l <= p.end_line; l++) {
      const k = `${p.file}\0${l}`;
      const list = at.get(k);
      if (list) list.push(i);
      else at.set(k, [i]);
    }
  });
  const hit = new Array<boolean>(plants.length).fill(false);
  const rulesFor = plants.map(() => new Set<string>());
  let atPlanted = 0;
  const fps: Finding[] = [];
  for (const f of findings) {
    const idx = at.get(`${f.file}\0${f.line}`);
    if (idx) {
      atPlanted++;
      for (const i of idx) {
        hit[i] = true;
        rulesFor[i]!.add(f.rule);
      }
    } else fps.push(f);
  }
  const perKind: Score['per_kind'] = {};
  for (const k of KINDS) perKind[k.id] = { planted: 0, found: 0, rules: {}, missed_samples: [] };
  plants.forEach((p, i) => {
    const e = perKind[p.kind]!;
    e.planted++;
    if (hit[i]) {
      e.found++;
      for (const r of rulesFor[i]!) e.rules[r] = (e.rules[r] ?? 0) + 1;
    } else if (e.missed_samples.length < 3) e.missed_samples.push(`${p.file}:${p.line}`);
  });
  const fpByRule: Record<string, number> = {};
  for (const f of fps) fpByRule[f.rule] = (fpByRule[f.rule] ?? 0) + 1;
  // A few examples per rule, with the (innocent, generated) line text, so FPs can be judged.
  const samples: Score['fp_samples'] = [];
  const perRule = new Map<string, number>();
  const fileCache = new Map<string, string[]>();
  for (const f of fps) {
    const n = perRule.get(f.rule) ?? 0;
    if (n >= 3 || samples.length >= 15) continue;
    perRule.set(f.rule, n + 1);
    let lines = fileCache.get(f.file);
    if (!lines) {
      try {
        lines = readFileSync(join(corpusDir, f.file), 'utf8').split('\n');
      } catch {
        lines = [];
      }
      fileCache.set(f.file, lines);
    }
    const t = lines[f.line - 1] ?? '';
    samples.push({ rule: f.rule, file: f.file, line: f.line, text: t.length > 140 ? t.slice(0, 140) + '…' : t });
  }
  const found = hit.filter(Boolean).length;
  return {
    found,
    planted: plants.length,
    recall: plants.length ? found / plants.length : 1,
    at_planted: atPlanted,
    false_positives: fps.length,
    fp_by_rule: fpByRule,
    fp_samples: samples,
    per_kind: perKind,
  };
}

// ---------------------------------------------------------------------------------------------
// Running the tools.

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface GovctlRun {
  ms: number;
  findings: Finding[];
  summary: Record<string, unknown>;
}

function runGovctl(corpus: string, extra: string[] = []): GovctlRun {
  const args = [GOVCTL_BIN, 'scan', 'secrets', corpus, '-o', 'json', '--fail-on', 'none', ...extra];
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { maxBuffer: 1 << 30, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`govctl exited ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').slice(0, 2000)}`);
  const report = JSON.parse(r.stdout) as {
    data: { findings: Array<{ rule: string; location: { file: string; line: number }; evidence: string }>; summary: Record<string, unknown> };
  };
  return {
    ms,
    findings: report.data.findings.map((f) => ({ rule: f.rule, file: f.location.file, line: f.location.line, evidence: f.evidence })),
    summary: report.data.summary,
  };
}

interface SecretlintInstall {
  bin: string;
  version: string;
  preset: string;
  where: string;
  installed_now: boolean;
}

function findSecretlint(): SecretlintInstall {
  const cacheRoot = values['secretlint-dir'] ?? join(process.env['GOVCTL_BENCH_CACHE'] ?? join(homedir(), '.cache', 'govctl-bench'), 'secretlint');
  const probe = (prefix: string): SecretlintInstall | undefined => {
    const pkg = join(prefix, 'node_modules', 'secretlint', 'package.json');
    const preset = join(prefix, 'node_modules', '@secretlint', 'secretlint-rule-preset-recommend', 'package.json');
    if (!existsSync(pkg) || !existsSync(preset)) return undefined;
    const meta = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string; bin: string | Record<string, string> };
    const binRel = typeof meta.bin === 'string' ? meta.bin : meta.bin['secretlint']!;
    return {
      bin: join(prefix, 'node_modules', 'secretlint', binRel),
      version: meta.version,
      preset: (JSON.parse(readFileSync(preset, 'utf8')) as { version: string }).version,
      where: prefix,
      installed_now: false,
    };
  };
  const found = probe(REPO) ?? probe(cacheRoot);
  if (found) return found;
  console.log(`secretlint not found; installing secretlint and @secretlint/secretlint-rule-preset-recommend into ${cacheRoot} (npm install --no-save)`);
  mkdirSync(cacheRoot, { recursive: true });
  const r = spawnSync('npm', ['install', '--prefix', cacheRoot, '--no-save', '--no-audit', '--no-fund', '--loglevel', 'error', 'secretlint', '@secretlint/secretlint-rule-preset-recommend'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm install of secretlint failed (exit ${r.status ?? r.signal})`);
  const after = probe(cacheRoot);
  if (!after) throw new Error(`secretlint still missing under ${cacheRoot} after npm install`);
  return { ...after, installed_now: true };
}

interface SecretlintResult {
  times_ms: number[];
  findings: Finding[];
  exit_code: number | null;
  command: string;
}

/** One secretlint invocation over `glob` (cwd = corpus); its JSON goes to a file, then is parsed. */
function secretlintOnce(sl: SecretlintInstall, corpus: string, workDir: string, glob: string): { ms: number; status: number | null; findings: Finding[] } {
  const rc = join(workDir, '.secretlintrc.json');
  if (!existsSync(rc)) writeFileSync(rc, JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }, null, 2) + '\n');
  const out = join(workDir, 'secretlint.json');
  rmSync(out, { force: true });
  // Masking is on by default (--no-maskSecrets would turn it off); --output writes the JSON there.
  const args = [sl.bin, glob, '--format', 'json', '--output', out, '--secretlintrc', rc, '--no-color', '--no-terminalLink'];
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: corpus, maxBuffer: 1 << 30, encoding: 'utf8' });
  const ms = performance.now() - t;
  // 0: clean, or findings written to --output; 1: findings; 2: fatal.
  if ((r.status !== 0 && r.status !== 1) || !existsSync(out)) {
    throw new Error(`secretlint ${glob} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || r.error?.message || '').slice(0, 2000)}`);
  }
  const results = JSON.parse(readFileSync(out, 'utf8')) as Array<{ filePath: string; messages: Array<{ ruleId: string; loc: { start: { line: number } } }> }>;
  rmSync(out, { force: true }); // holds file contents; not kept
  const findings: Finding[] = [];
  for (const res of results) {
    const file = relative(corpus, res.filePath).split('\\').join('/');
    for (const m of res.messages) findings.push({ rule: m.ruleId.replace(/^@secretlint\/secretlint-rule-/, ''), file, line: m.loc.start.line });
  }
  return { ms, status: r.status, findings };
}

function runSecretlint(sl: SecretlintInstall, corpus: string, workDir: string): SecretlintResult {
  const times: number[] = [];
  let last: ReturnType<typeof secretlintOnce> | undefined;
  for (let i = 0; i < SL_RUNS; i++) {
    last = secretlintOnce(sl, corpus, workDir, '**/*');
    times.push(last.ms);
    console.log(`  secretlint run ${i + 1}: ${secs(last.ms)} (exit ${last.status})`);
  }
  return { times_ms: times, findings: last!.findings, exit_code: last!.status, command: 'secretlint "**/*" --format json --output <file> --secretlintrc <rc> (cwd = corpus)' };
}

/**
 * secretlint's time grows faster than linearly with the number of files (v12: its always-on
 * profiler scans every earlier performance mark on each new one), so also time it split into one
 * invocation per top-level directory, run one after another: a fairer single-threaded figure.
 */
function runSecretlintSharded(sl: SecretlintInstall, corpus: string, workDir: string): { ms: number; shards: number; findings: Finding[] } {
  const entries = readdirSync(corpus, { withFileTypes: true });
  const globs = entries.filter((e) => e.isDirectory()).map((e) => `${e.name}/**/*`);
  if (entries.some((e) => e.isFile())) globs.push('*');
  let ms = 0;
  const findings: Finding[] = [];
  for (const glob of globs) {
    const r = secretlintOnce(sl, corpus, workDir, glob);
    ms += r.ms;
    findings.push(...r.findings);
  }
  return { ms, shards: globs.length, findings };
}

// ---------------------------------------------------------------------------------------------
// Main.

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const cpu = cpus();
const machine = {
  os: `${osType()} ${release()}`,
  cpu: cpu[0]?.model ?? 'unknown',
  cores: cpu.length,
  memory_gb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
};
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB RAM, ${machine.os}, node ${machine.node}`);

if (!existsSync(join(REPO, 'dist'))) throw new Error('dist/ is missing: run `npm run build` first (bin/govctl.js runs dist/)');

const reuse = values.reuse !== undefined ? resolve(values.reuse) : undefined;
const runDir = reuse ?? mkdtempSync(join(tmpdir(), 'govctl-bench-scan-'));
const corpusDir = join(runDir, 'corpus');
const manifestPath = join(runDir, 'manifest.json');
let exitCode = 0;
try {
  let corpus: Corpus;
  if (reuse) {
    corpus = JSON.parse(readFileSync(manifestPath, 'utf8')) as Corpus;
    console.log(`reusing corpus ${corpusDir}`);
  } else {
    const t0 = performance.now();
    corpus = generateCorpus(corpusDir, SIZE_MB * MB);
    writeFileSync(manifestPath, JSON.stringify({ seed: SEED, ...corpus }) + '\n');
    console.log(`generated in ${secs(performance.now() - t0)} (seed ${SEED}) under ${runDir}`);
  }
  const mb = corpus.bytes / MB;
  const kindsPlanted = new Set(corpus.plants.map((p) => p.kind)).size;
  console.log(`corpus: ${mb.toFixed(1)} MB (MB = 2^20 bytes), ${corpus.files} files, ${corpus.plants.length} planted secrets of ${kindsPlanted} kinds`);

  // --- govctl
  console.log(`\ngovctl: node bin/govctl.js scan secrets <corpus> -o json --fail-on none  (x${RUNS}, default workers)`);
  const govRuns: GovctlRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = runGovctl(corpusDir);
    govRuns.push(r);
    console.log(`  run ${i + 1}: ${secs(r.ms)}  (${(mb / (r.ms / 1000)).toFixed(1)} MB/s; ${r.findings.length} findings; engine duration_ms ${String(r.summary['duration_ms'])})`);
  }
  const govMs = median(govRuns.map((r) => r.ms));
  const last = govRuns[govRuns.length - 1]!;
  const gov = score(corpus.plants, last.findings, corpusDir);
  const summary = last.summary as { files_scanned?: number; bytes_scanned?: number; skipped?: Record<string, number> };
  if (summary.files_scanned !== corpus.files || summary.bytes_scanned !== corpus.bytes) {
    console.log(`  NOTE: govctl scanned ${summary.files_scanned} files / ${summary.bytes_scanned} bytes, the corpus has ${corpus.files} / ${corpus.bytes} (skipped: ${JSON.stringify(summary.skipped)})`);
  }
  let single: { ms: number; findings: number } | undefined;
  if (values.single) {
    const r = runGovctl(corpusDir, ['--workers', '0']);
    single = { ms: r.ms, findings: r.findings.length };
    console.log(`  single-threaded (--workers 0): ${secs(r.ms)} (${(mb / (r.ms / 1000)).toFixed(1)} MB/s)`);
  }

  // --- secretlint
  let sharded: { ms: number; shards: number; found: number; false_positives: number } | undefined;
  let sl: (SecretlintResult & { install: SecretlintInstall; score: Score; median_ms: number }) | undefined;
  if (!values['skip-secretlint']) {
    const install = findSecretlint();
    console.log(`\nsecretlint ${install.version} (preset-recommend ${install.preset}) from ${install.where}${install.installed_now ? ' (installed now)' : ''}`);
    console.log(`  secretlint "**/*" --format json --output <file> --secretlintrc <rc> (cwd = corpus; secrets masked)  (x${SL_RUNS})`);
    const r = runSecretlint(install, corpusDir, runDir);
    sl = { ...r, install, score: score(corpus.plants, r.findings, corpusDir), median_ms: median(r.times_ms) };
    if (!values['skip-shards']) {
      const sh = runSecretlintSharded(install, corpusDir, runDir);
      const shScore = score(corpus.plants, sh.findings, corpusDir);
      sharded = { ms: sh.ms, shards: sh.shards, found: shScore.found, false_positives: shScore.false_positives };
      console.log(`  secretlint split into ${sh.shards} invocations (one per top-level dir, one after another): ${secs(sh.ms)} in all; recall ${shScore.found}/${shScore.planted}`);
    }
  }

  // --- report
  const mbps = (ms: number): number => mb / (ms / 1000);
  console.log('\n=== results ===');
  console.log(`corpus        ${mb.toFixed(1)} MB, ${corpus.files} files, ${corpus.plants.length} planted`);
  const row = (name: string, ms: number, s: Score): void =>
    console.log(`${name.padEnd(13)} ${secs(ms).padStart(8)}  ${mbps(ms).toFixed(1).padStart(6)} MB/s  recall ${s.found}/${s.planted} (${pct(s.recall)})  false positives ${s.false_positives}  (findings at planted lines ${s.at_planted})`);
  row('govctl', govMs, gov);
  if (sl) row('secretlint', sl.median_ms, sl.score);
  const ratio = sl ? sl.median_ms / govMs : undefined;
  if (sharded) console.log(`${'secretlint/' + sharded.shards}`.padEnd(13) + ` ${secs(sharded.ms).padStart(8)}  ${mbps(sharded.ms).toFixed(1).padStart(6)} MB/s  (split: one invocation per top-level dir, summed)`);
  const shardedRatio = sharded ? sharded.ms / govMs : undefined;
  if (ratio !== undefined) console.log(`speed ratio   govctl is ${ratio.toFixed(1)}x faster than secretlint` + (shardedRatio !== undefined ? ` (${shardedRatio.toFixed(1)}x against secretlint split by directory)` : ''));

  console.log('\nper-kind recall' + (sl ? '            govctl        secretlint' : '            govctl'));
  for (const k of KINDS) {
    const g = gov.per_kind[k.id]!;
    const cell = (e: { planted: number; found: number }): string => `${e.found}/${e.planted}`.padStart(9) + ` ${e.planted ? pct(e.found / e.planted) : '-'}`.padStart(8);
    const s = sl?.score.per_kind[k.id];
    console.log(`  ${k.id.padEnd(24)} ${cell(g)}${s ? '   ' + cell(s) : ''}`);
  }
  const missed = (name: string, s: Score): void => {
    for (const [kind, e] of Object.entries(s.per_kind)) {
      if (e.found < e.planted) console.log(`  ${name} missed ${kind}: ${e.planted - e.found}, e.g. ${e.missed_samples.join(', ')}`);
    }
  };
  missed('govctl', gov);
  const fpList = (name: string, s: Score): void => {
    if (s.false_positives === 0) return;
    console.log(`\n${name} false positives by rule: ${Object.entries(s.fp_by_rule).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`);
    for (const x of s.fp_samples.slice(0, 8)) console.log(`  ${x.rule} ${x.file}:${x.line}: ${x.text.trim()}`);
  };
  fpList('govctl', gov);
  if (sl) fpList('secretlint', sl.score);

  const targets = {
    govctl_under_10s: { target: `< ${TARGET_SECONDS} s`, value: govMs / 1000, pass: govMs < TARGET_SECONDS * 1000 },
    govctl_recall_100: { target: '100%', value: gov.recall, pass: gov.found === gov.planted },
    speed_ratio_10x: { target: `>= ${TARGET_RATIO}x`, value: ratio ?? null, pass: ratio === undefined ? null : ratio >= TARGET_RATIO },
  };
  console.log('\ntargets');
  console.log(`  govctl < ${TARGET_SECONDS} s for ${mb.toFixed(0)} MB     ${secs(govMs).padStart(8)}   ${targets.govctl_under_10s.pass ? 'PASS' : 'FAIL'}`);
  console.log(`  govctl recall 100%          ${pct(gov.recall).padStart(8)}   ${targets.govctl_recall_100.pass ? 'PASS' : 'FAIL'}`);
  console.log(`  speed ratio >= ${TARGET_RATIO}x          ${ratio === undefined ? '     n/a' : (ratio.toFixed(1) + 'x').padStart(8)}   ${ratio === undefined ? 'SKIPPED' : targets.speed_ratio_10x.pass ? 'PASS' : 'FAIL'}`);
  if (shardedRatio !== undefined) {
    const why = shardedRatio >= TARGET_RATIO ? '' : ratio !== undefined && ratio >= TARGET_RATIO ? ` — below ${TARGET_RATIO}x: the margin above comes from secretlint slowing down with file count` : ` — below ${TARGET_RATIO}x`;
    console.log(`    (against secretlint split by directory, ${sharded!.shards} start-ups included: ${shardedRatio.toFixed(1)}x${why})`);
  }
  const failed = Object.values(targets).some((t) => t.pass === false);
  console.log(`overall: ${failed ? 'FAIL' : 'PASS'}`);
  if (failed) exitCode = 1;

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const reportPath = join(REPO, 'reports', `bench-scan-${stamp}.json`);
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(
    reportPath,
    JSON.stringify(
      {
        bench: 'scan',
        at: new Date().toISOString(),
        machine,
        options: { size_mb: SIZE_MB, runs: RUNS, secretlint_runs: SL_RUNS, seed: SEED, skip_secretlint: values['skip-secretlint'] },
        corpus: { mb, bytes: corpus.bytes, files: corpus.files, planted: corpus.plants.length, kinds: KINDS.map((k) => k.id) },
        govctl: { command: 'node bin/govctl.js scan secrets <corpus> -o json --fail-on none', times_ms: govRuns.map((r) => r.ms), median_ms: govMs, mb_per_s: mbps(govMs), summary: last.summary, single_thread: single, ...gov },
        secretlint: sl
          ? { command: sl.command, version: sl.install.version, preset_version: sl.install.preset, times_ms: sl.times_ms, median_ms: sl.median_ms, mb_per_s: mbps(sl.median_ms), exit_code: sl.exit_code, sharded: sharded ? { ...sharded, mb_per_s: mbps(sharded.ms), speed_ratio: shardedRatio } : null, ...sl.score }
          : null,
        speed_ratio: ratio ?? null,
        targets,
        pass: !failed,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`report: ${relative(REPO, reportPath)}`);
} finally {
  if (reuse) {
    // a reused run dir belongs to the caller
  } else if (values.keep) {
    console.log(`corpus kept: ${corpusDir} (manifest ${manifestPath}; rerun with --reuse ${runDir})`);
  } else {
    rmSync(runDir, { recursive: true, force: true });
  }
}
process.exitCode = exitCode;
