/**
 * Every built-in secret rule against true-positive and false-positive samples written for this
 * project. No sample is a real credential: values are built from random characters with a fixed
 * seed (mulberry32), in each provider's real format, so each run sees the same strings.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUILTIN_SECRET_RULES_FILE,
  loadSecretRules,
  type SecretRule,
  type SecretRuleSet,
} from '../../src/scan/rules/secret-rules.js';
import { createSecretsEngine } from '../../src/scan/secrets/engine.js';
import type { Engine, RawMatch } from '../../src/scan/types.js';

// ---------------------------------------------------------------------------------------------
// Deterministic synthetic values

function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(0x5ec2e7);
const gen = (alphabet: string, n: number): string => {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(rand() * alphabet.length)];
  return out;
};
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';
const B32 = UPPER + '234567';
const uuid4 = (): string =>
  `${gen(HEX, 8)}-${gen(HEX, 4)}-4${gen(HEX, 3)}-${gen('89ab', 1)}${gen(HEX, 3)}-${gen(HEX, 12)}`;
const b64url = (s: string): string => Buffer.from(s).toString('base64url');
/** A PEM-style block: label, optional header lines, `lines` random base64 body lines. */
const pemBlock = (label: string, lines = 5, headers: string[] = []): { text: string; firstBody: string } => {
  const body = Array.from({ length: lines }, () => gen(B64, 64));
  const head = headers.length > 0 ? headers.join('\n') + '\n\n' : '';
  return {
    text: `-----BEGIN ${label}-----\n${head}${body.join('\n')}\n${gen(B64, 20)}==\n-----END ${label}-----\n`,
    firstBody: body[0]!,
  };
};
/** From the PEM header through the first 64 body characters: the value a private-key rule reports. */
const pemValue = (text: string, firstBody: string): string =>
  text.slice(text.indexOf('-----BEGIN'), text.indexOf(firstBody) + Math.min(64, firstBody.length));

// ---------------------------------------------------------------------------------------------
// Samples

interface TruePositive {
  text: string;
  value: string;
  /** Where the value starts; defaults to its first occurrence in text. */
  index?: number;
  path?: string;
}
interface FalsePositive {
  text: string;
  path?: string;
  /** Other rules that may legitimately fire on this text (this sample is a negative for its own rule). */
  allow?: string[];
}
interface Samples {
  tp: TruePositive[];
  fp: Array<string | FalsePositive>;
}

const tp = (text: string, value: string, extra: Omit<TruePositive, 'text' | 'value'> = {}): TruePositive => ({
  text,
  value,
  ...extra,
});

function buildSamples(): Record<string, Samples> {
  const s: Record<string, Samples> = {};

  // AWS -------------------------------------------------------------------------------------
  {
    const a = 'AKIA' + gen(B32, 16);
    const b = 'ASIA' + gen(B32, 16);
    const c = 'AKIA' + gen(B32, 16);
    s['aws-access-key-id'] = {
      tp: [
        tp(`[default]\naws_access_key_id = ${a}\nregion = eu-west-1\n`, a),
        tp(`{"Credentials": {"AccessKeyId": "${b}", "Expiration": "2030-01-01T00:00:00Z"}}`, b),
        tp(`export AWS_ACCESS_KEY_ID=${c}`, c),
      ],
      fp: [
        `aws_access_key_id = AKIA${gen(B32, 9)}EXAMPLE`, // documentation-style example id
        'aws_access_key_id = AKIAXXXXXXXXXXXXXXXX',
        `aws_access_key_id = AKIA${gen(B32, 14)}`, // too short
        `const id = "XAKIA${gen(B32, 16)}";`, // part of a longer word
        `id = AKIA${gen(B32, 16)}${gen(B32, 6)}`, // too long
        `akia${gen(LOWER, 16)} is lower case`,
        'Our Asia Pacific region serves ASIA customers from Singapore.',
      ],
    };
    const k1 = gen(B64, 40);
    const k2 = gen(B64, 40);
    const k3 = gen(B64, 40);
    const k4 = gen(B64, 40);
    s['aws-secret-access-key'] = {
      tp: [
        tp(`[prod]\naws_secret_access_key = ${k1}\n`, k1),
        tp(`AWS_SECRET_ACCESS_KEY="${k2}"`, k2),
        tp(`{ "AccessKeyId": "ignored", "SecretAccessKey": "${k3}" }`, k3),
        tp(`const s3 = new S3Client({ credentials: { accessKeyId, secretAccessKey: '${k4}' } });`, k4),
      ],
      fp: [
        `aws_secret_access_key = ${gen(B64, 20)}EXAMPLEKEY${gen(B64, 10)}`,
        'aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}',
        'aws_secret_access_key = os.environ["AWS_SECRET_ACCESS_KEY"]',
        'AWS_SECRET_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        `aws_region = "${gen(B64, 40)}"`, // 40 base64 characters, but not a secret's name
        `git_commit_sha = "${gen(HEX, 40)}"`,
      ],
    };
  }

  // GitHub ----------------------------------------------------------------------------------
  {
    const pat = 'ghp_' + gen(ALNUM, 36);
    const patWithTest = 'ghp_' + gen(ALNUM, 10) + 'test' + gen(ALNUM, 6) + 'Test' + gen(ALNUM, 12);
    const patInUrl = 'ghp_' + gen(ALNUM, 36);
    s['github-pat'] = {
      tp: [
        tp(`GITHUB_TOKEN=${pat}`, pat),
        // "test" inside a real-format token does not make it a placeholder.
        tp(`token = "${patWithTest}"`, patWithTest),
        tp(`git clone https://ci:${patInUrl}@github.com/acme/app.git`, patInUrl),
      ],
      fp: [
        'GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        { text: `token = "ghp_${gen(ALNUM, 35)}"`, allow: ['generic-secret-assignment'] }, // one character short: only generically secret-like
        'Classic tokens start with ghp_ followed by 36 characters.',
        'token: ghp_${{ secrets.TOKEN }}',
        `"ghp_${gen(ALNUM, 36)}${gen(ALNUM, 4)}"`, // too long
      ],
    };
    const fg = `github_pat_${gen(ALNUM, 22)}_${gen(ALNUM, 59)}`;
    s['github-fine-grained-pat'] = {
      tp: [tp(`const octokit = new Octokit({ auth: '${fg}' });`, fg)],
      fp: [
        `github_pat_${gen(ALNUM, 22)}_${gen(ALNUM, 40)}`,
        'Fine-grained tokens look like github_pat_<22 chars>_<59 chars>.',
        'def github_pat_from_env(): return os.environ["GH_PAT"]',
      ],
    };
    const gho = 'gho_' + gen(ALNUM, 36);
    s['github-oauth-token'] = {
      tp: [tp(`  "oauth_token": "${gho}",`, gho)],
      fp: ['gho_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'the gho_ prefix marks OAuth tokens'],
    };
    const ghs = 'ghs_' + gen(ALNUM, 36);
    const ghu = 'ghu_' + gen(ALNUM, 36);
    s['github-app-token'] = {
      tp: [tp(`Authorization: token ${ghs}`, ghs), tp(`user_token: ${ghu}`, ghu)],
      fp: ['ghs_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ', `ghu_${gen(ALNUM, 20)}`],
    };
    const ghr = 'ghr_' + gen(ALNUM, 76);
    s['github-refresh-token'] = {
      tp: [tp(`refresh_token=${ghr}&grant_type=refresh_token`, ghr)],
      fp: [`ghr_${gen(ALNUM, 12)}`, 'ghr_<refresh-token>'],
    };
  }

  // GitLab ----------------------------------------------------------------------------------
  {
    const glpat = 'glpat-' + gen(B64URL, 20);
    const glpatNew = `glpat-${gen(B64URL, 27)}.01.${gen(LOWER + DIGITS, 9)}`;
    s['gitlab-pat'] = {
      tp: [
        tp(`GITLAB_TOKEN=${glpat}`, glpat),
        tp(`curl --header "PRIVATE-TOKEN: ${glpatNew}" https://gitlab.example.org/api/v4/projects`, glpatNew),
      ],
      fp: ['GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx', 'glpat-<your-token>', `glpat-${gen(ALNUM, 10)}`],
    };
    const glptt = 'glptt-' + gen(HEX, 40);
    s['gitlab-pipeline-trigger-token'] = {
      tp: [tp(`curl -X POST -F token=${glptt} -F ref=main https://gitlab.internal/api/v4/projects/9/trigger/pipeline`, glptt)],
      fp: [{ text: `token=glptt-${gen(HEX, 39)}`, allow: ['generic-secret-assignment'] }, 'glptt-0000000000000000000000000000000000000000'],
    };
    const gr = 'GR1348941' + gen(B64URL, 20);
    const glrt = 'glrt-' + gen(B64URL, 20);
    s['gitlab-runner-token'] = {
      tp: [tp(`gitlab-runner register --registration-token ${gr}`, gr), tp(`  token = "${glrt}"`, glrt)],
      fp: ['registration-token: GR1348941xxxxxxxxxxxxxxxxxxxx', `glrt-${gen(ALNUM, 8)}`],
    };
    const gldt = 'gldt-' + gen(B64URL, 20);
    s['gitlab-deploy-token'] = {
      tp: [tp(`docker login -u deployer -p ${gldt} registry.gitlab.internal`, gldt)],
      fp: ['password: gldt-<deploy-token>', 'gldt-XXXXXXXXXXXXXXXXXXXX'],
    };
    const glft = 'glft-' + gen(B64URL, 20);
    const glagent = 'glagent-' + gen(B64URL, 50);
    s['gitlab-token'] = {
      tp: [tp(`feed: https://gitlab.internal/dashboard/projects.atom?feed_token=${glft}`, glft), tp(`agent: ${glagent}`, glagent)],
      fp: [`glft-EXAMPLE${gen(ALNUM, 14)}`, 'the glimt- prefix is used for incoming mail tokens'],
    };
  }

  // Slack -----------------------------------------------------------------------------------
  {
    const bot = `xoxb-${gen(DIGITS, 11)}-${gen(DIGITS, 13)}-${gen(ALNUM, 24)}`;
    s['slack-bot-token'] = {
      tp: [tp(`SLACK_BOT_TOKEN=${bot}`, bot)],
      fp: [
        'SLACK_BOT_TOKEN=xoxb-your-bot-token',
        'token: xoxb-000000000000-0000000000000-XXXXXXXXXXXXXXXXXXXXXXXX',
        `xoxb-${gen(DIGITS, 11)}-${gen(ALNUM, 10)}`,
      ],
    };
    const user = `xoxp-${gen(DIGITS, 11)}-${gen(DIGITS, 11)}-${gen(DIGITS, 13)}-${gen(HEX, 32)}`;
    s['slack-user-token'] = {
      tp: [tp(`client = WebClient(token="${user}")`, user)],
      fp: ['token="xoxp-${SLACK_USER_TOKEN}"', 'xoxp-1111111111-2222222222-3333333333-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    };
    const app = `xapp-1-A${gen(UPPER + DIGITS, 10)}-${gen(DIGITS, 13)}-${gen(HEX, 64)}`;
    s['slack-app-token'] = {
      tp: [tp(`SLACK_APP_TOKEN: ${app}`, app)],
      fp: ['SLACK_APP_TOKEN: xapp-1-<app-token>', `xapp-${gen(ALNUM, 12)}`],
    };
    const hook = `https://hooks.slack.com/services/T${gen(UPPER + DIGITS, 8)}/B${gen(UPPER + DIGITS, 10)}/${gen(ALNUM, 24)}`;
    s['slack-webhook-url'] = {
      tp: [tp(`webhook_url: "${hook}"`, hook)],
      fp: [
        'webhook_url: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"',
        'Post to https://hooks.slack.com/services/... with a JSON body.',
        'SLACK_WEBHOOK=https://hooks.slack.com/services/${TEAM}/${CHANNEL}/${SECRET}',
      ],
    };
  }

  // Stripe ----------------------------------------------------------------------------------
  {
    const live = 'sk_live_' + gen(ALNUM, 99);
    const testKey = 'sk_test_' + gen(ALNUM, 24);
    s['stripe-secret-key'] = {
      tp: [tp(`stripe.api_key = "${live}"`, live)],
      fp: [
        'stripe.api_key = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"',
        'STRIPE_SECRET_KEY=sk_live_...',
        { text: `stripe.api_key = "${testKey}"`, allow: ['stripe-test-key'] },
      ],
    };
    const rk = 'rk_live_' + gen(ALNUM, 32);
    s['stripe-restricted-key'] = {
      tp: [tp(`const stripe = new Stripe('${rk}');`, rk)],
      fp: ["const stripe = new Stripe('rk_live_' + process.env.SUFFIX);", 'rk_live_<restricted-key>'],
    };
    const t1 = 'sk_test_' + gen(ALNUM, 24);
    const t2 = 'rk_test_' + gen(ALNUM, 30);
    s['stripe-test-key'] = {
      tp: [tp(`STRIPE_KEY=${t1}`, t1), tp(`key: '${t2}'`, t2)],
      fp: ['STRIPE_KEY=sk_test_XXXXXXXXXXXXXXXXXXXXXXXX', 'sk_test_example_key_for_docs'],
    };
    const wh = 'whsec_' + gen(ALNUM, 32);
    s['stripe-webhook-secret'] = {
      tp: [tp(`STRIPE_WEBHOOK_SECRET=${wh}`, wh)],
      fp: ['STRIPE_WEBHOOK_SECRET=whsec_...', 'endpointSecret = "whsec_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'],
    };
  }

  // OpenAI / Anthropic / Google -------------------------------------------------------------
  {
    const proj = `sk-proj-${gen(B64URL, 74)}T3BlbkFJ${gen(B64URL, 74)}`;
    const legacy = `sk-${gen(ALNUM, 20)}T3BlbkFJ${gen(ALNUM, 20)}`;
    s['openai-api-key'] = {
      tp: [tp(`OPENAI_API_KEY=${proj}`, proj), tp(`client = OpenAI(api_key="${legacy}")`, legacy)],
      fp: [
        { text: `OPENAI_API_KEY=sk-proj-${gen(ALNUM, 20)}`, allow: ['generic-secret-assignment'] },
        'OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        `<div class="task-proj-${'details-panel-'.repeat(4)}header">`,
      ],
    };
    const ant = `sk-ant-api03-${gen(B64URL, 93)}AA`;
    s['anthropic-api-key'] = {
      tp: [tp(`ANTHROPIC_API_KEY="${ant}"`, ant)],
      fp: ['ANTHROPIC_API_KEY="sk-ant-api03-..."', `sk-ant-api03-EXAMPLE${gen(B64URL, 88)}`],
    };
    const adm = `sk-ant-admin01-${gen(B64URL, 93)}AA`;
    s['anthropic-admin-key'] = {
      tp: [tp(`admin_key: ${adm}`, adm)],
      fp: ['sk-ant-admin01-<admin-key>', `sk-ant-admin01-${gen(B64URL, 20)}`],
    };
    const g1 = 'AIza' + gen(B64URL, 35);
    const g2 = 'AIza' + gen(B64URL, 35);
    s['google-api-key'] = {
      tp: [tp(`const firebaseConfig = { apiKey: "${g1}", projectId: "acme" };`, g1), tp(`GOOGLE_API_KEY=${g2}`, g2)],
      fp: [
        'apiKey: "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"',
        { text: `apiKey: "AIza${gen(ALNUM, 20)}"`, allow: ['generic-secret-assignment'] },
        `val = "xAIza${gen(ALNUM, 35)}"`,
      ],
    };
    const pk = pemBlock('PRIVATE KEY', 3);
    const jsonKey = pk.text.replace(/\n/g, '\\n');
    const sa = [
      '{',
      '  "type": "service_account",',
      '  "project_id": "acme-prod-4521",',
      `  "private_key_id": "${gen(HEX, 40)}",`,
      `  "private_key": "${jsonKey}",`,
      '  "client_email": "deployer@acme-prod-4521.iam.gserviceaccount.com",',
      `  "client_id": "${gen(DIGITS, 21)}"`,
      '}',
    ].join('\n');
    const saValue = `-----BEGIN PRIVATE KEY-----\\n${pk.firstBody}`;
    const reordered = [
      '{',
      `  "private_key": "${pemBlock('PRIVATE KEY', 2).text.replace(/\n/g, '\\n')}",`,
      '  "client_email": "ci@acme.iam.gserviceaccount.com",',
      '  "type": "service_account"',
      '}',
    ].join('\n');
    const reorderedValue = reordered.slice(reordered.indexOf('-----BEGIN'), reordered.indexOf('-----BEGIN') + 27 + 2 + 64);
    s['gcp-service-account-key'] = {
      tp: [tp(sa, saValue, { path: 'deploy/sa.json' }), tp(reordered, reorderedValue, { path: 'ci/key.json' })],
      fp: [
        '{\n  "type": "service_account",\n  "project_id": "acme",\n  "private_key": "",\n  "client_email": "x@acme.iam.gserviceaccount.com"\n}',
        '{\n  "type": "service_account",\n  "private_key": "-----BEGIN PRIVATE KEY-----\\nREDACTED\\n-----END PRIVATE KEY-----\\n"\n}',
        'resource "google_service_account" "ci" {\n  account_id = "ci"\n  type = "service_account"\n}',
      ],
    };
  }

  // Azure -----------------------------------------------------------------------------------
  {
    const cs = gen(ALNUM, 3) + gen(DIGITS, 1) + 'Q~' + gen(ALNUM + '_~.-', 34);
    const cs2 = gen(ALNUM, 3) + '7Q~' + gen(ALNUM, 34);
    s['azure-ad-client-secret'] = {
      tp: [tp(`AZURE_CLIENT_SECRET=${cs}`, cs), tp(`"clientSecret": "${cs2}"`, cs2)],
      fp: [
        'The Q~ marker appears in new client secrets.',
        { text: `secret = "abc8Q~${gen(ALNUM, 10)}"`, allow: ['generic-secret-assignment'] },
        'client_secret = "abc8Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
      ],
    };

    const key = gen(B64, 86) + '==';
    s['azure-storage-account-key'] = {
      tp: [
        tp(
          `AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=${key};EndpointSuffix=core.windows.net"`,
          key,
        ),
      ],
      fp: [
        'AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true"',
        'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=<account-key>;EndpointSuffix=core.windows.net',
        `AccountKey=${'A'.repeat(86)}==`,
      ],
    };
    const sig = encodeURIComponent(gen(B64, 43) + '=');
    const sas = `https://acmeprod.blob.core.windows.net/backups/db.tar?sv=2022-11-02&ss=b&srt=o&sp=r&se=2031-01-01T00:00:00Z&spr=https&sig=${sig}`;
    s['azure-sas-token'] = {
      tp: [tp(`BACKUP_URL="${sas}"`, sig)],
      fp: [
        'https://acme.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=<signature>',
        `https://cdn.example.org/img.png?w=200&sig=${gen(HEX, 12)}`,
      ],
    };
    const sak = gen(B64, 43) + '=';
    s['azure-shared-access-key'] = {
      tp: [
        tp(
          `"ServiceBus": "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${sak}"`,
          sak,
        ),
      ],
      fp: [
        'Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={your-key}',
        'SharedAccessKeyName=RootManageSharedAccessKey',
      ],
    };
  }

  // Private keys ----------------------------------------------------------------------------
  {
    const pkRule = (id: string, label: string): void => {
      const a = pemBlock(label);
      const b = pemBlock(label, 3);
      const inJs = `const key = "${b.text.replace(/\n/g, '\\n')}";`;
      s[id] = {
        tp: [
          tp(`# deploy key\n${a.text}`, pemValue(`# deploy key\n${a.text}`, a.firstBody), { path: 'deploy/id_key' }),
          tp(inJs, `-----BEGIN ${label}-----\\n${b.firstBody}`),
        ],
        fp: [
          `if (pem.startsWith('-----BEGIN ${label}-----')) {\n  return parse(pem);\n}`,
          `-----BEGIN ${label}-----\n...\n-----END ${label}-----`,
          `-----BEGIN ${label}-----\n<your private key here>\n-----END ${label}-----`,
          `-----BEGIN ${label}-----\n${'X'.repeat(64)}\n${'X'.repeat(64)}\n-----END ${label}-----`,
        ],
      };
    };
    pkRule('private-key-rsa', 'RSA PRIVATE KEY');
    pkRule('private-key-ec', 'EC PRIVATE KEY');
    pkRule('private-key-dsa', 'DSA PRIVATE KEY');
    pkRule('private-key-openssh', 'OPENSSH PRIVATE KEY');
    pkRule('private-key-pkcs8', 'PRIVATE KEY');
    pkRule('private-key-encrypted', 'ENCRYPTED PRIVATE KEY');
    pkRule('private-key-pgp', 'PGP PRIVATE KEY BLOCK');
    // Legacy encrypted RSA with PEM headers; PGP armor headers.
    const enc = pemBlock('RSA PRIVATE KEY', 4, ['Proc-Type: 4,ENCRYPTED', `DEK-Info: AES-128-CBC,${gen(HEX, 32).toUpperCase()}`]);
    s['private-key-rsa']!.tp.push(tp(enc.text, pemValue(enc.text, enc.firstBody)));
    const pgp = pemBlock('PGP PRIVATE KEY BLOCK', 4, ['Version: GnuPG v2', 'Comment: release signing']);
    s['private-key-pgp']!.tp.push(tp(pgp.text, pemValue(pgp.text, pgp.firstBody)));
    // Public keys and certificates are not secrets.
    s['private-key-pkcs8']!.fp.push(pemBlock('PUBLIC KEY').text, pemBlock('CERTIFICATE').text);
    s['private-key-openssh']!.fp.push(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${gen(B64, 43)} deploy@ci`);

    const privLine = gen(B64, 44);
    const ppk = [
      'PuTTY-User-Key-File-3: ssh-ed25519',
      'Encryption: none',
      'Comment: deploy@build',
      'Public-Lines: 2',
      gen(B64, 64),
      gen(B64, 20),
      'Private-Lines: 1',
      privLine,
      `Private-MAC: ${gen(HEX, 64)}`,
    ].join('\n');
    s['private-key-putty'] = {
      tp: [tp(ppk, privLine, { path: 'keys/deploy.ppk' })],
      fp: [
        'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\nAAAA\nPrivate-Lines: 1\n<redacted>\n',
        'Convert the key with puttygen; the file starts with PuTTY-User-Key-File-3.',
      ],
    };
  }

  // Tokens of many providers ----------------------------------------------------------------
  {
    const header = b64url('{"alg":"HS256","typ":"JWT"}');
    const jwt = `${header}.${b64url(JSON.stringify({ sub: gen(HEX, 12), iat: 1700000000, scope: 'policies:write' }))}.${gen(B64URL, 43)}`;
    const jwt2 = `${b64url('{"alg":"RS256","kid":"k1"}')}.${b64url(JSON.stringify({ iss: 'https://idp.internal', aud: 'govctl', exp: 1900000000 }))}.${gen(B64URL, 342)}`;
    s['jwt'] = {
      tp: [tp(`Authorization: Bearer ${jwt}`, jwt), tp(`session_cookie = "${jwt2}"`, jwt2)],
      fp: [
        `const header = "${header}";`, // one part only
        `${header}.${b64url('{"sub":"1"}')}`, // unsigned, two parts
        `icon: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQ${gen(B64, 60)}"`,
        'Tokens look like eyJ...header.eyJ...payload.signature',
      ],
    };
    const npm = 'npm_' + gen(ALNUM, 36);
    s['npm-access-token'] = {
      tp: [tp(`//registry.npmjs.org/:_authToken=${npm}`, npm, { path: '.npmrc' })],
      fp: [
        { text: '//registry.npmjs.org/:_authToken=${NPM_TOKEN}', path: '.npmrc' },
        'echo $npm_package_version $npm_lifecycle_event',
        'npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      ],
    };
    const legacyNpm = uuid4();
    const basic = Buffer.from(`ci-bot:${gen(ALNUM, 20)}`).toString('base64');
    s['npmrc-auth-token'] = {
      tp: [
        tp(`//npm.pkg.github.com/:_authToken=${legacyNpm}`, legacyNpm, { path: '.npmrc' }),
        tp(`registry=https://npm.internal/\n_auth=${basic}\nalways-auth=true`, basic, { path: '.npmrc' }),
      ],
      fp: [
        { text: '//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}', path: '.npmrc' },
        { text: 'always-auth=true\n_auth=\n', path: '.npmrc' },
        { text: '_password=changeme-password-here', path: '.npmrc' },
      ],
    };
    const pypi = 'pypi-AgEIcHlwaS5vcmc' + gen(B64URL, 150);
    const testPypi = 'pypi-AgENdGVzdC5weXBpLm9yZw' + gen(B64URL, 120);
    s['pypi-upload-token'] = {
      tp: [tp(`[pypi]\n  username = __token__\n  password = ${pypi}\n`, pypi, { path: '.pypirc' }), tp(`TWINE_PASSWORD=${testPypi}`, testPypi)],
      fp: ['password = pypi-AgEIcHlwaS5vcmc...', `password = pypi-AgEIcHlwaS5vcmcEXAMPLE${gen(B64URL, 60)}`, 'twine upload -u __token__ -p $PYPI_TOKEN dist/*'],
    };
    const sk = 'SK' + gen(HEX, 32);
    s['twilio-api-key'] = {
      tp: [tp(`TWILIO_API_KEY=${sk}`, sk)],
      fp: [
        { text: `TWILIO_API_KEY=SK${gen(HEX, 31)}`, allow: ['generic-secret-assignment'] },
        `mask = "ASK${gen(HEX, 32)}"`,
        'TWILIO_API_KEY=SK00000000000000000000000000000000',
        'const task = ask(risk);',
      ],
    };
    const authToken = gen(HEX, 32);
    const pairToken = gen(HEX, 32);
    s['twilio-auth-token'] = {
      tp: [
        tp(`TWILIO_AUTH_TOKEN=${authToken}`, authToken),
        tp(`from twilio.rest import Client; client = Client("AC${gen(HEX, 32)}", "${pairToken}")`, pairToken),
      ],
      fp: ['TWILIO_AUTH_TOKEN=your_auth_token', 'twilio_auth_token: 00000000000000000000000000000000', 'client = Client(account_sid, auth_token)  # twilio'],
    };
    const sg = `SG.${gen(B64URL, 22)}.${gen(B64URL, 43)}`;
    s['sendgrid-api-key'] = {
      tp: [tp(`sg = SendGridAPIClient("${sg}")`, sg)],
      fp: ['SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy', 'SG.<key-id>.<secret>', 'pkg.SG.version = 2'],
    };
    const mg = 'key-' + gen(HEX, 32);
    const mgNew = `${gen(HEX, 32)}-${gen(HEX, 8)}-${gen(HEX, 8)}`;
    s['mailgun-api-key'] = {
      tp: [tp(`MAILGUN_API_KEY=${mg}`, mg), tp(`mailgun_api_key: "${mgNew}"`, mgNew)],
      fp: [`monkey-${gen(HEX, 32)}`, 'primary-key-value pairs', `key-${gen(HEX, 20)}`, 'MAILGUN_API_KEY=key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    };
    const hf = 'hf_' + gen(UPPER + LOWER, 34);
    const org = 'api_org_' + gen(UPPER + LOWER, 34);
    s['huggingface-token'] = {
      tp: [tp(`HF_TOKEN=${hf}`, hf), tp(`login(token="${org}")`, org)],
      fp: ['from huggingface_hub import hf_hub_download', 'HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', `hf_${gen(ALNUM, 10)}`],
    };
    const dop = 'dop_v1_' + gen(HEX, 64);
    s['digitalocean-pat'] = {
      tp: [tp(`DIGITALOCEAN_TOKEN=${dop}`, dop)],
      fp: [`dop_v1_${gen(HEX, 63)}`, `dop_v1_${'a'.repeat(64)}`],
    };
    const doo = 'doo_v1_' + gen(HEX, 64);
    const dor = 'dor_v1_' + gen(HEX, 64);
    s['digitalocean-oauth-token'] = {
      tp: [tp(`access_token: ${doo}`, doo), tp(`refresh_token: ${dor}`, dor)],
      fp: ['doo_v1_<oauth-token>', `doo_v1_${gen(HEX, 30)}`],
    };
    const hrku = 'HRKU-AA' + gen(B64URL, 58);
    s['heroku-api-key'] = {
      tp: [tp(`HEROKU_API_KEY=${hrku}`, hrku)],
      fp: ['HEROKU_API_KEY=HRKU-<api-key>', `HRKU-${gen(ALNUM, 10)}`],
    };
    const herokuLegacy = uuid4();
    s['heroku-api-key-legacy'] = {
      tp: [tp(`HEROKU_API_KEY=${herokuLegacy}`, herokuLegacy)],
      fp: [
        `heroku_app_id = "${uuid4()}"`,
        'HEROKU_API_KEY=00000000-0000-0000-0000-000000000000',
        'heroku config:get HEROKU_API_KEY',
      ],
    };
    const shpat = 'shpat_' + gen(HEX, 32);
    const shppa = 'shppa_' + gen(HEX, 32);
    s['shopify-access-token'] = {
      tp: [tp(`X-Shopify-Access-Token: ${shpat}`, shpat), tp(`SHOPIFY_PASSWORD=${shppa}`, shppa)],
      fp: ['X-Shopify-Access-Token: shpat_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'shpat_0123456789abcdef0123456789abcdef', 'shpat_<token>'],
    };
    const shpss = 'shpss_' + gen(HEX, 32);
    s['shopify-shared-secret'] = {
      tp: [tp(`SHOPIFY_API_SECRET=${shpss}`, shpss)],
      fp: ['SHOPIFY_API_SECRET=shpss_...', `shpss_${gen(HEX, 31)}`],
    };
    const tg = gen('123456789', 1) + gen(DIGITS, 9) + ':AA' + gen(B64URL, 33);
    const tg2 = gen('123456789', 1) + gen(DIGITS, 8) + ':AA' + gen(B64URL, 33);
    s['telegram-bot-token'] = {
      tp: [tp(`TELEGRAM_BOT_TOKEN=${tg}`, tg), tp(`await fetch(\`https://api.telegram.org/bot${tg2}/sendMessage\`)`, tg2)],
      fp: ['TELEGRAM_BOT_TOKEN=<bot-token>', `telegram: ${gen(DIGITS, 10)}:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, 'started at 12:34:56 by telegram bot'],
    };
    const discord = `MT${gen(ALNUM, 24)}.${gen(B64URL, 6)}.${gen(B64URL, 38)}`;
    s['discord-bot-token'] = {
      tp: [tp(`DISCORD_BOT_TOKEN=${discord}`, discord)],
      fp: [
        'DISCORD_BOT_TOKEN=your-discord-bot-token',
        `discord token: MTxxxxxxxxxxxxxxxxxxxxxxxx.${gen(B64URL, 6)}.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
        'import discord  # version 2.3.2',
      ],
    };
    const dh = `https://discord.com/api/webhooks/${gen('123456789', 1)}${gen(DIGITS, 17)}/${gen(B64URL, 68)}`;
    s['discord-webhook-url'] = {
      tp: [tp(`DISCORD_WEBHOOK_URL=${dh}`, dh)],
      fp: ['https://discord.com/api/webhooks/{webhook.id}/{webhook.token}', 'https://discord.com/api/webhooks/123/abc'],
    };
    const dd = gen(HEX, 32);
    const dd2 = gen(HEX, 32);
    s['datadog-api-key'] = {
      tp: [tp(`DD_API_KEY=${dd}`, dd), tp(`datadog:\n  datadog_api_key: "${dd2}"`, dd2)],
      fp: [
        'DD_API_KEY=<DATADOG_API_KEY>',
        'DD_API_KEY=00000000000000000000000000000000',
        'def add_api_key(self, name): ...',
        `dd_api_key_secret_arn = "arn:aws:secretsmanager:eu-west-1:${gen(DIGITS, 12)}:secret:dd"`,
      ],
    };
    const ddApp = gen(HEX, 40);
    s['datadog-app-key'] = {
      tp: [tp(`DD_APP_KEY=${ddApp}`, ddApp)],
      fp: ['DD_APP_KEY=${DATADOG_APP_KEY}', `dd_app_key_name = "${gen(LOWER, 10)}"`],
    };
    const sentrySecret = gen(HEX, 32);
    s['sentry-dsn-secret'] = {
      tp: [tp(`SENTRY_DSN=https://${gen(HEX, 32)}:${sentrySecret}@o${gen(DIGITS, 6)}.ingest.sentry.io/${gen(DIGITS, 7)}`, sentrySecret)],
      fp: [
        `SENTRY_DSN=https://${gen(HEX, 32)}@o${gen(DIGITS, 6)}.ingest.sentry.io/${gen(DIGITS, 7)}`, // no secret part
        'sentry_dsn: https://<key>:<secret>@sentry.io/<project>',
      ],
    };
    const claims = Buffer.from(
      JSON.stringify({ iat: 1700000000.5, url: 'https://sentry.io', region_url: 'https://us.sentry.io', org: 'acme' }),
    ).toString('base64');
    const sntrys = `sntrys_${claims}_${gen(B64, 43)}`;
    const sntryu = 'sntryu_' + gen(HEX, 64);
    s['sentry-auth-token'] = {
      tp: [tp(`SENTRY_AUTH_TOKEN=${sntrys}`, sntrys), tp(`auth.token=${sntryu}`, sntryu)],
      fp: ['SENTRY_AUTH_TOKEN=sntrys_<token>', `sntryu_${gen(HEX, 40)}`],
    };
  }

  // URLs with credentials -------------------------------------------------------------------
  {
    const p1 = gen(ALNUM, 16);
    const p2 = gen(ALNUM + '!*', 20);
    const p3 = gen(ALNUM, 24);
    const p4 = gen(ALNUM, 18);
    s['database-url-password'] = {
      tp: [
        tp(`DATABASE_URL=postgres://app:${p1}@db.internal:5432/app`, p1),
        tp(`MONGO_URI="mongodb+srv://svc-reader:${p2}@cluster0.a1b2c.mongodb.net/prod?retryWrites=true"`, p2),
        tp(`REDIS_URL=redis://:${p3}@cache.internal:6379/0`, p3),
        tp(`SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://etl:${p4}@10.0.4.7/warehouse"`, p4),
      ],
      fp: [
        'DATABASE_URL=postgres://user:password@localhost:5432/db',
        'DATABASE_URL=postgres://postgres:postgres@localhost:5432/test',
        'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
        'MYSQL_URL=mysql://root@localhost/shop',
        'postgres://USER:PASS@HOST:5432/DB',
        'mongodb://<username>:<password>@host:27017',
        'REDIS_URL=redis://localhost:6379',
      ],
    };
    const u1 = gen(ALNUM, 14);
    const u2 = gen(ALNUM, 12);
    s['url-basic-auth'] = {
      tp: [
        tp(`git remote add origin https://deploy:${u1}@git.corp.internal/platform/app.git`, u1),
        tp(`BACKUP_TARGET=ftp://backup:${u2}@files.acme-corp.io/nightly/`, u2),
      ],
      fp: [
        'curl https://user:pass@example.com/api',
        'git clone https://${GIT_USER}:${GIT_TOKEN}@github.com/acme/app.git',
        'http://localhost:8080/health',
        'git@github.com:acme/app.git',
        'http://admin:admin@router.lan/',
        `proxy = http://svc:${gen(ALNUM, 12)}@proxy.example.com:3128`,
      ],
    };
  }

  // Governance API ---------------------------------------------------------------------------
  {
    const t1 = `${uuid4()}.${gen(B64URL, 43)}`;
    const t2 = `${uuid4()}.${gen(B64URL, 43)}`;
    s['govctl-api-token'] = {
      tp: [tp(`GOVCTL_TOKEN="${t1}"`, t1), tp(`curl -H "Authorization: Bearer ${t2}" http://127.0.0.1:8080/v1/check`, t2)],
      fp: [
        `request_id: ${uuid4()}`,
        `token: ${uuid4()}.****`, // the redacted form govctl prints
        `${uuid4()}.${gen(B64URL, 20)}`,
        `${gen(HEX, 8)}-${gen(HEX, 4)}-1${gen(HEX, 3)}-8${gen(HEX, 3)}-${gen(HEX, 12)}.${'x'.repeat(43)}`,
      ],
    };
    s['governance-default-admin-key'] = {
      tp: [
        tp('ADMIN_API_KEY=changeme', 'changeme'),
        tp('server:\n  admin_key: "admin"\n', 'admin', { index: 'server:\n  admin_key: "'.length }),
        tp('govctl serve --admin-key dev-admin-key', 'dev-admin-key', { index: 'govctl serve --admin-key '.length }),
        tp('  GOVCTL_ADMIN_KEY: ${GOVCTL_ADMIN_KEY:-secret-admin-key}', 'secret-admin-key'),
        tp(`const adminKey = 'changeme';`, 'changeme'),
        tp(`curl -H 'X-Admin-Key: admin' http://localhost:8080/v1/admin/keys`, 'admin', { index: `curl -H 'X-Admin-Key: `.length }),
      ],
      fp: [
        'ADMIN_API_KEY=${ADMIN_API_KEY}',
        'admin_key = os.environ["ADMIN_KEY"]',
        'entry.admin_key = secret;',
        'return { url, adminKey: admin.token };',
        "const isAdmin = role === 'admin';",
        'adminKeyHeader = "x-admin-key"',
        { text: `ADMIN_API_KEY=${gen(B64URL, 43)}`, allow: ['generic-secret-assignment'] },
      ],
    };
  }

  // Generic ----------------------------------------------------------------------------------
  {
    const v = (): string => gen(ALNUM, 20);
    const g = Array.from({ length: 10 }, v);
    const sym = gen(ALNUM, 10) + '&' + gen(ALNUM, 6) + '#';
    const railsBase = gen(HEX, 64);
    s['generic-secret-assignment'] = {
      tp: [
        tp(`password = "${g[0]}"`, g[0]!),
        tp(`  db_password: ${g[1]}\n`, g[1]!, { path: 'config/app.yaml' }),
        tp(`API_KEY=${g[2]}`, g[2]!, { path: '.env' }),
        tp(`{"client_secret": "${g[3]}", "client_id": "web"}`, g[3]!, { path: 'oauth.json' }),
        tp(`const apiKey = '${g[4]}';`, g[4]!),
        tp(`$password = '${sym}';`, sym, { path: 'config.php' }),
        tp(`\ttoken := "${g[5]}"`, g[5]!, { path: 'main.go' }),
        tp(`SECRET_KEY_BASE=${railsBase}`, railsBase, { path: '.env' }),
        tp(`  auth_token => "${g[6]}",`, g[6]!, { path: 'config.rb' }),
        tp(`headers = {"x-api-key": "${g[7]}"}`, g[7]!),
        tp(`export SERVICE_CREDENTIALS=${g[8]}`, g[8]!, { path: 'deploy.sh' }),
        tp(`    private String password = "${g[9]}";`, g[9]!, { path: 'Db.java' }),
      ],
      fp: [
        'password = getPassword()',
        'password: ${{ secrets.DB_PASSWORD }}',
        'token = os.environ["TOKEN"]',
        'const apiKey = process.env.API_KEY;',
        'password = ""',
        'password = "changeme"',
        'api_key = "your-api-key-here"',
        '"key": "display_name"',
        `"key": "${uuid4()}"`,
        'primary_key = "user_id_column_x"',
        'cache_key = f"user:{user_id}"',
        'token_type = "bearer"',
        'password_field = "password"',
        'secret = "********"',
        'if password == "letmein99":',
        'auth = ("user", "pass")',
        'def check_password(password: str) -> bool:',
        "if (!password) throw new Error('password required');",
        'password: string;',
        'token = tokens[i]',
        'pass: matchResult?.pass ?? false,',
        'credentials: request.credentials,',
        'lastToken = "?InterpolationInJSX";',
        'avatarKey: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"',
        `sha256 = "${gen(HEX, 64)}"`,
        `commit: ${gen(HEX, 40)}`,
        { text: `    "node_modules/js-tokens": {\n      "integrity": "sha512-${gen(B64, 86)}=="\n    }`, path: 'package-lock.json' },
        { text: `  resolved "https://registry.yarnpkg.com/tokenize/-/tokenize-1.0.0.tgz#${gen(HEX, 40)}"`, path: 'yarn.lock' },
        'The `credentials`: Configures the Access-Control-Allow-Credentials header.',
        'token = "Bearer " + accessToken',
        'SECRET_KEY = get_random_secret_key()',
        `"tokens": "^4.0.0"`,
        'password: "Secret123"', // placeholder word + short
      ],
    };
  }

  return s;
}

// ---------------------------------------------------------------------------------------------

let ruleSet: SecretRuleSet;
let engine: Engine;
let samples: Record<string, Samples>;

beforeAll(async () => {
  ruleSet = await loadSecretRules();
  engine = createSecretsEngine(ruleSet);
  samples = buildSamples();
});

const describeMatch = (m: RawMatch): string => `${m.rule}@${m.line}:${m.column}=${JSON.stringify(m.value)}`;

function lineAndColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - (before.lastIndexOf('\n') + 1) + 1 };
}

describe('secret rule samples', () => {
  it('every built-in rule has true-positive and false-positive samples', () => {
    const builtin = JSON.parse(readFileSync(BUILTIN_SECRET_RULES_FILE, 'utf8')) as { rules: SecretRule[] };
    const missing = builtin.rules
      .filter((r) => !samples[r.id] || samples[r.id]!.tp.length === 0 || samples[r.id]!.fp.length === 0)
      .map((r) => r.id);
    expect(missing).toEqual([]);
    const stale = Object.keys(samples).filter((id) => !builtin.rules.some((r) => r.id === id));
    expect(stale).toEqual([]);
    expect(builtin.rules.length).toBeGreaterThanOrEqual(40);
  });

  it('finds each true positive exactly once, with its rule, line, column and raw value', () => {
    const failures: string[] = [];
    for (const [rule, { tp: positives }] of Object.entries(samples)) {
      for (const sample of positives) {
        const matches = engine.scan(sample.text, sample.path ?? 'src/app.ts');
        const index = sample.index ?? sample.text.indexOf(sample.value);
        const want = { rule, value: sample.value, ...lineAndColumn(sample.text, index) };
        const got = matches.map((m) => ({ rule: m.rule, value: m.value, line: m.line, column: m.column }));
        if (sample.value === '' || index < 0) failures.push(`${rule}: bad sample ${JSON.stringify(sample.text)}`);
        else if (got.length !== 1 || JSON.stringify(got[0]) !== JSON.stringify(want)) {
          failures.push(
            `${rule}: ${JSON.stringify(sample.text.slice(0, 160))}\n    want ${JSON.stringify(want)}\n    got  ${matches.map(describeMatch).join(', ') || 'nothing'}`,
          );
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('reports no false positive', () => {
    const failures: string[] = [];
    for (const [rule, { fp: negatives }] of Object.entries(samples)) {
      for (const raw of negatives) {
        const sample = typeof raw === 'string' ? { text: raw } : raw;
        const matches = engine
          .scan(sample.text, sample.path ?? 'src/app.ts')
          .filter((m) => !(sample.allow ?? []).includes(m.rule));
        if (matches.length > 0) {
          failures.push(`${rule}: ${JSON.stringify(sample.text.slice(0, 160))} -> ${matches.map(describeMatch).join(', ')}`);
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('the false positives with an allowed rule do trigger that rule (the allowance is not vacuous)', () => {
    for (const { fp: negatives } of Object.values(samples)) {
      for (const raw of negatives) {
        if (typeof raw === 'string' || !raw.allow) continue;
        const rules = engine.scan(raw.text, raw.path ?? 'src/app.ts').map((m) => m.rule);
        expect(rules.some((r) => raw.allow!.includes(r))).toBe(true);
      }
    }
  });
});

describe('secrets engine', () => {
  it('reports the provider rule, not the generic one, for a token in a generic assignment', () => {
    const token = 'ghp_' + gen(ALNUM, 36);
    const matches = engine.scan(`token = "${token}"\napi_key: "${token}"`, 'a.py');
    expect(matches.map((m) => [m.rule, m.line])).toEqual([
      ['github-pat', 1],
      ['github-pat', 2],
    ]);
  });

  it('reports several secrets of one file in order with correct lines and columns', () => {
    const a = 'AKIA' + gen(B32, 16);
    const b = gen(B64, 40);
    const c = 'xoxb-' + gen(DIGITS, 10) + '-' + gen(DIGITS, 12) + '-' + gen(ALNUM, 24);
    const text = `# creds\n[default]\naws_access_key_id=${a}\naws_secret_access_key=${b}\n\nnotify: ${c}\n`;
    const got = engine.scan(text, 'creds.ini').map((m) => [m.rule, m.line, m.column, m.value]);
    expect(got).toEqual([
      ['aws-access-key-id', 3, 19, a],
      ['aws-secret-access-key', 4, 23, b],
      ['slack-bot-token', 6, 9, c],
    ]);
  });

  it('counts columns in UTF-16 code units and handles CRLF and non-Latin text', () => {
    const token = 'npm_' + gen(ALNUM, 36);
    // "š" (U+0161) has low byte 0x61 ('a'); the emoji is two code units.
    const text = `ščř 😀 comment\r\nпароль 😀 = "${token}"\r\n`;
    const [m] = engine.scan(text, 'x.txt');
    expect(m).toMatchObject({ rule: 'npm-access-token', line: 2, value: token });
    expect(m!.column).toBe('пароль 😀 = "'.length + 1);
  });

  it('finds two private keys in one file once each', () => {
    const a = pemBlock('RSA PRIVATE KEY');
    const b = pemBlock('RSA PRIVATE KEY');
    const text = `${a.text}\n${b.text}`;
    const got = engine.scan(text, 'keys.pem');
    expect(got.map((m) => [m.rule, m.line])).toEqual([
      ['private-key-rsa', 1],
      ['private-key-rsa', text.slice(0, text.lastIndexOf('-----BEGIN')).split('\n').length],
    ]);
  });

  it('finds a secret on the first and on the last line without a trailing newline', () => {
    const t1 = 'shpat_' + gen(HEX, 32);
    const t2 = 'shpat_' + gen(HEX, 32);
    const got = engine.scan(`${t1}\nmiddle\n${t2}`, 'x');
    expect(got.map((m) => [m.line, m.column, m.value])).toEqual([
      [1, 1, t1],
      [3, 1, t2],
    ]);
  });

  it('skips a rule on paths its allowlist names (lockfiles for the generic rule)', () => {
    const text = `password = "${gen(ALNUM, 20)}"`;
    expect(engine.scan(text, 'app/config.py')).toHaveLength(1);
    expect(engine.scan(text, 'app/package-lock.json')).toHaveLength(0);
    expect(engine.scan(text, 'yarn.lock')).toHaveLength(0);
  });

  it('returns findings with title, severity, category, remediation and cwe', () => {
    const [m] = engine.scan(`key = "sk_live_${gen(ALNUM, 30)}"`, 'x');
    expect(m).toMatchObject({
      rule: 'stripe-secret-key',
      severity: 'critical',
      category: 'secret',
      cwe: 'CWE-798',
    });
    expect(m!.title.length).toBeGreaterThan(0);
    expect(m!.remediation.length).toBeGreaterThan(0);
  });

  it('returns nothing for empty text, and works with an empty rule set', () => {
    expect(engine.scan('', 'x')).toEqual([]);
    expect(createSecretsEngine({ rules: [] }).scan('token = "ghp_abc"', 'x')).toEqual([]);
  });

  it('is rebuilt identically from a structured clone of the rule set (as a worker thread would)', () => {
    const clone = structuredClone(ruleSet);
    const other = createSecretsEngine(clone);
    const text = `GITHUB_TOKEN=ghp_${gen(ALNUM, 36)}\npassword = "${gen(ALNUM, 20)}"\n`;
    expect(other.scan(text, 'x')).toEqual(engine.scan(text, 'x'));
  });

  it('can be reused across files without state leaking between scans', () => {
    const token = 'hf_' + gen(UPPER + LOWER, 34);
    const text = `x\nHF_TOKEN=${token}\n`;
    const first = engine.scan(text, 'a');
    engine.scan('nothing here\n'.repeat(1000), 'b');
    engine.scan('x'.repeat(200_000), 'c');
    expect(engine.scan(text, 'a')).toEqual(first);
  });

  it('finds nothing in its own rules file and source (no rule matches its own pattern)', () => {
    const files = [
      BUILTIN_SECRET_RULES_FILE,
      fileURLToPath(new URL('../../src/scan/rules/secret-rules.ts', import.meta.url)),
      fileURLToPath(new URL('../../src/scan/secrets/engine.ts', import.meta.url)),
      fileURLToPath(new URL('../../src/scan/placeholders.ts', import.meta.url)),
      fileURLToPath(new URL('../../src/scan/entropy.ts', import.meta.url)),
    ];
    for (const file of files) {
      expect(engine.scan(readFileSync(file, 'utf8'), file).map(describeMatch)).toEqual([]);
    }
  });
});
