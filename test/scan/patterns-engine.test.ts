import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scanText } from '../../src/scan/file-scan.js';
import {
  BUILTIN_PATTERN_RULES,
  createPatternsEngine,
  loadPatternRules,
  patternLanguageOf,
  type PatternRule,
  type PatternRuleSet,
} from '../../src/scan/patterns/engine.js';

const rules = await loadPatternRules();
const engine = createPatternsEngine(rules);
const builtin = JSON.parse(readFileSync(BUILTIN_PATTERN_RULES, 'utf8')) as PatternRuleSet;

const fileFor = (lang: Lang): string => (lang === 'python' ? 'app/sample.py' : 'src/sample.ts');

/** Removes the « marker and returns where it was, as 1-based line and column. */
function marked(code: string): { text: string; line: number; column: number } {
  const at = code.indexOf('«');
  if (at === -1 || code.indexOf('«', at + 1) !== -1) throw new Error(`sample needs exactly one «: ${code}`);
  const before = code.slice(0, at);
  const line = before.split('\n').length;
  return { text: code.slice(0, at) + code.slice(at + 1), line, column: at - (before.lastIndexOf('\n') + 1) + 1 };
}

const label = (s: Sample): string => `${s.rule} [${s.lang}] ${JSON.stringify(s.code.length > 70 ? `${s.code.slice(0, 70)}…` : s.code)}`;

describe('pattern rules: true positives', () => {
  it.each(TRUE_POSITIVES.map((s) => [label(s), s] as const))('%s', (_name, sample) => {
    const { text, line, column } = marked(sample.code);
    const matches = engine.scan(text, fileFor(sample.lang));
    // Exactly one finding for the sample, from the right rule, where the « was.
    expect(matches.map((m) => `${m.rule}@${m.line}:${m.column}`)).toEqual([`${sample.rule}@${line}:${column}`]);
    const [m] = matches;
    expect(m).toMatchObject({ category: 'dangerous-code', cwe: expect.stringMatching(/^CWE-\d+$/) });
    expect(m!.value.length).toBeGreaterThan(0);
    expect(m!.value.length).toBeLessThanOrEqual(120);
    // The snippet is the original code at the reported position.
    const lines = text.split('\n');
    expect(lines[m!.line - 1]!.slice(m!.column - 1).startsWith(m!.value.split('\n')[0]!)).toBe(true);
  });
});

describe('pattern rules: false positives', () => {
  it.each(FALSE_POSITIVES.map((s) => [label(s), s] as const))('%s', (_name, sample) => {
    const matches = engine.scan(sample.code, fileFor(sample.lang)).filter((m) => m.rule === sample.rule);
    expect(matches).toEqual([]);
  });
});

describe('rule coverage', () => {
  it('every built-in rule has true- and false-positive samples in each of its languages', () => {
    const missing: string[] = [];
    for (const rule of builtin.rules) {
      for (const lang of rule.languages) {
        if (!TRUE_POSITIVES.some((s) => s.rule === rule.id && s.lang === lang)) missing.push(`${rule.id}: no true positive in ${lang}`);
        if (!FALSE_POSITIVES.some((s) => s.rule === rule.id && s.lang === lang)) missing.push(`${rule.id}: no false positive in ${lang}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('samples only name rules that exist, in languages the rule covers', () => {
    const byId = new Map(builtin.rules.map((r) => [r.id, r]));
    for (const s of [...TRUE_POSITIVES, ...FALSE_POSITIVES]) {
      expect(byId.get(s.rule)?.languages, s.rule).toContain(s.lang);
    }
  });

  it('every rule has a severity, a CWE, a title and a remediation', () => {
    for (const rule of builtin.rules) {
      expect(rule.cwe).toMatch(/^CWE-\d+$/);
      expect(rule.title.length).toBeGreaterThan(5);
      expect(rule.remediation.length).toBeGreaterThan(20);
      expect(rule.keywords?.length ?? 0, `${rule.id} has prefilter keywords`).toBeGreaterThan(0);
    }
  });
});

describe('engine', () => {
  it('maps extensions to languages', () => {
    for (const p of ['a.py', 'dir/b.pyw', 'X.PY']) expect(patternLanguageOf(p)).toBe('python');
    for (const p of ['a.js', 'a.mjs', 'a.cjs', 'a.jsx', 'a.ts', 'a.tsx', 'a.mts', 'a.cts']) expect(patternLanguageOf(p)).toBe('javascript');
    for (const p of ['a.rb', 'Makefile', 'a.py.txt', 'dir.py/README', 'a.json']) expect(patternLanguageOf(p)).toBeUndefined();
  });

  it('reports nothing for other languages', () => {
    expect(engine.scan('eval(x)\nos.system(cmd)\n', 'notes.md')).toEqual([]);
    expect(engine.scan('eval(x)\n', 'script.rb')).toEqual([]);
  });

  it('gives positions in the original text, with CRLF line ends and non-ASCII before the match', () => {
    const text = '# é 🎉\r\nx = 1\r\nπ = "🎉"; y = eval(z)\r\n';
    const [m] = engine.scan(text, 'a.py');
    expect(m).toMatchObject({ rule: 'python-eval-exec', line: 3, value: 'eval(z)' });
    const line3 = text.split('\n')[2]!;
    expect(line3.slice(m!.column - 1).startsWith('eval(')).toBe(true);
  });

  it('trims long snippets to 120 characters', () => {
    const args = Array.from({ length: 60 }, (_, i) => `arg${i}`).join(', ');
    const [m] = engine.scan(`data = yaml.load(${args})\n`, 'a.py');
    expect(m!.rule).toBe('python-yaml-load');
    expect(m!.value.length).toBe(120);
    expect(m!.value.endsWith('…')).toBe(true);
  });

  it('finds several matches in one file, in line order', () => {
    const text = 'import os\nos.system(a)\nx = 1\nos.popen(b)\nr = requests.get(u, verify=False)\n';
    expect(engine.scan(text, 'a.py').map((m) => `${m.rule}:${m.line}`)).toEqual([
      'python-os-system:2',
      'python-os-system:4',
      'python-tls-verify-disabled:5',
    ]);
  });

  it('works from a JSON copy of the rules (what a worker thread receives)', () => {
    const copy = createPatternsEngine(JSON.parse(JSON.stringify(rules)) as PatternRuleSet);
    expect(copy.scan('x = eval(y)\n', 'a.py')).toEqual(engine.scan('x = eval(y)\n', 'a.py'));
  });

  it('runs a rule only on files containing one of its keywords', () => {
    const rule: PatternRule = {
      id: 'needs-marker', title: 'test rule', severity: 'low', languages: ['python'],
      keywords: ['MARKER'], regex: '\\bfoo\\(', remediation: 'none needed here', cwe: 'CWE-1',
    };
    const e = createPatternsEngine({ rules: [rule] });
    expect(e.scan('foo(1)\n', 'a.py')).toEqual([]);
    expect(e.scan('foo(1)  # MARKER\n', 'a.py')).toHaveLength(1);
    expect(e.scan('foo(1)  # MARKER\n', 'a.js')).toEqual([]);
  });

  it('never reports a raw-text rule match that starts inside a comment or a string', () => {
    const rule: PatternRule = {
      id: 'raw-danger', title: 'test rule', severity: 'low', languages: ['javascript', 'python'],
      regex: 'danger\\(', on: 'raw', remediation: 'none needed here', cwe: 'CWE-1',
    };
    const e = createPatternsEngine({ rules: [rule] });
    expect(e.scan('// danger(1)\nconst s = "danger(2)";\ndanger(3);\n', 'a.js').map((m) => m.line)).toEqual([3]);
    expect(e.scan('# danger(1)\n"""danger(2)"""\ndanger(3)\n', 'a.py').map((m) => m.line)).toEqual([3]);
  });

  it('lets the orchestrator suppress a finding with # nosec / govctl:allow on the reported line', () => {
    const text = 'import subprocess\nsubprocess.run(cmd, shell=True)  # nosec\nos.system(cmd)  # govctl:allow\nos.popen(cmd)\n';
    const { matches, suppressed } = scanText(engine, text, 'a.py');
    expect(matches.map((m) => `${m.rule}:${m.line}`)).toEqual(['python-os-system:4']);
    expect(suppressed).toBe(2);
  });

  it('stays fast on a large file', () => {
    const chunk = [
      'import os, yaml, hashlib, subprocess',
      'def handler(request, password_store):',
      '    """Docstring mentioning eval(x) and SELECT * FROM t."""',
      '    query = "SELECT * FROM t WHERE id = %s"',
      '    cur.execute(query, (request.id,))',
      '    data = yaml.safe_load(request.body)  # yaml.load would be unsafe',
      "    h = hashlib.sha256(b'x').hexdigest()",
      '    return {"host": "127.0.0.1", "debug": False}',
      '',
    ].join('\n');
    const text = chunk.repeat(Math.ceil(2_000_000 / chunk.length));
    const started = performance.now();
    const matches = engine.scan(text, 'big.py');
    const ms = performance.now() - started;
    expect(matches).toEqual([]);
    expect(ms).toBeLessThan(5000);
  });
});

type Lang = 'python' | 'javascript';

interface Sample {
  rule: string;
  lang: Lang;
  code: string;
}

const TRUE_POSITIVES: Sample[] = [
  // python-eval-exec
  { rule: 'python-eval-exec', lang: 'python', code: 'result = «eval(user_input)\n' },
  { rule: 'python-eval-exec', lang: 'python', code: 'def run(code):\n    «exec(code, {"__builtins__": {}})\n' },
  { rule: 'python-eval-exec', lang: 'python', code: 'value = «builtins.eval(expr)\n' },
  { rule: 'python-eval-exec', lang: 'python', code: 'msg = f"total: {«eval(formula)}"\n' },
  // js-eval
  { rule: 'js-eval', lang: 'javascript', code: 'const r = «eval(input);\n' },
  { rule: 'js-eval', lang: 'javascript', code: 'function run(code) {\n  return «window.eval(code);\n}\n' },
  { rule: 'js-eval', lang: 'javascript', code: 'const s = `value: ${«eval(expr)}`;\n' },
  // js-new-function
  { rule: 'js-new-function', lang: 'javascript', code: "const f = «new Function('a', 'b', body);\n" },
  { rule: 'js-new-function', lang: 'javascript', code: 'const g = «Function("return " + expr)();\n' },
  // js-child-process-exec
  { rule: 'js-child-process-exec', lang: 'javascript', code: "const { exec } = require('child_process');\n«exec(`git log ${branch}`, cb);\n" },
  { rule: 'js-child-process-exec', lang: 'javascript', code: "import cp from 'node:child_process';\nconst out = «cp.execSync('ls -la ' + dir);\n" },
  { rule: 'js-child-process-exec', lang: 'javascript', code: "const child_process = require('child_process');\n«child_process.exec(cmd, (err) => {});\n" },
  // python-subprocess-shell
  { rule: 'python-subprocess-shell', lang: 'python', code: 'import subprocess\n«subprocess.run(cmd, shell=True)\n' },
  { rule: 'python-subprocess-shell', lang: 'python', code: 'p = «subprocess.Popen(f"ls {d}", shell=True, stdout=subprocess.PIPE)\n' },
  { rule: 'python-subprocess-shell', lang: 'python', code: 'out = subprocess.check_output(\n    cmd,\n    «shell=True,\n)\n' },
  // python-os-system
  { rule: 'python-os-system', lang: 'python', code: 'import os\n«os.system("rm -rf " + path)\n' },
  { rule: 'python-os-system', lang: 'python', code: 'out = «os.popen(cmd).read()\n' },
  { rule: 'python-os-system', lang: 'python', code: 'status = «subprocess.getoutput(cmd)\n' },
  // python-pickle-load
  { rule: 'python-pickle-load', lang: 'python', code: 'import pickle\nobj = «pickle.loads(request.data)\n' },
  { rule: 'python-pickle-load', lang: 'python', code: 'with open(p, "rb") as f:\n    state = «cPickle.load(f)\n' },
  { rule: 'python-pickle-load', lang: 'python', code: 'model = «dill.load(fh)\n' },
  { rule: 'python-pickle-load', lang: 'python', code: 'db = «shelve.open(path)\n' },
  // python-yaml-load
  { rule: 'python-yaml-load', lang: 'python', code: 'cfg = «yaml.load(open(os.path.join(a, b)))\n' },
  { rule: 'python-yaml-load', lang: 'python', code: 'data = «yaml.load(stream, Loader=yaml.Loader)\n' },
  { rule: 'python-yaml-load', lang: 'python', code: 'docs = «yaml.load_all(\n    text,\n    Loader=yaml.FullLoader,\n)\n' },
  { rule: 'python-yaml-load', lang: 'python', code: 'data = «yaml.unsafe_load(body)\n' },
  // python-sql-injection
  { rule: 'python-sql-injection', lang: 'python', code: `cur.«execute(f"SELECT * FROM users WHERE name = '{name}'")\n` },
  { rule: 'python-sql-injection', lang: 'python', code: 'cur.«execute("DELETE FROM sessions WHERE user_id = %s" % uid)\n' },
  { rule: 'python-sql-injection', lang: 'python', code: 'cur.«execute("UPDATE t SET a = {} WHERE id = 1".format(a))\n' },
  { rule: 'python-sql-injection', lang: 'python', code: `cur.«execute("INSERT INTO notes VALUES ('" + text_value + "')")\n` },
  { rule: 'python-sql-injection', lang: 'python', code: '«query = f"""\n    SELECT id\n    FROM users\n    WHERE id = {uid}\n"""\ncur.execute(query)\n' },
  { rule: 'python-sql-injection', lang: 'python', code: 'rows = conn.execute(«text(f"SELECT * FROM orders WHERE id = {oid}"))\n' },
  // js-sql-injection
  { rule: 'js-sql-injection', lang: 'javascript', code: 'const rows = await db.«query(`SELECT * FROM users WHERE id = ${id}`);\n' },
  { rule: 'js-sql-injection', lang: 'javascript', code: `conn.«execute("DELETE FROM items WHERE owner = '" + owner + "'");\n` },
  { rule: 'js-sql-injection', lang: 'javascript', code: 'const «sql = `UPDATE accounts SET balance = ${b} WHERE id = ${id}`;\ndb.run(sql);\n' },
  { rule: 'js-sql-injection', lang: 'javascript', code: 'await knex.«raw(`SELECT ${cols} FROM reports`);\n' },
  // python-tls-verify-disabled
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'r = «requests.get(url, verify=False)\n' },
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'ctx = «ssl._create_unverified_context()\n' },
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'ctx = ssl.create_default_context()\nctx.«verify_mode = ssl.CERT_NONE\n' },
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'ctx.«check_hostname = False\n' },
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'session = requests.Session()\nsession.«verify = False\n' },
  // js-tls-reject-unauthorized
  { rule: 'js-tls-reject-unauthorized', lang: 'javascript', code: 'const agent = new https.Agent({ «rejectUnauthorized: false });\n' },
  { rule: 'js-tls-reject-unauthorized', lang: 'javascript', code: 'opts.«rejectUnauthorized = false;\n' },
  { rule: 'js-tls-reject-unauthorized', lang: 'javascript', code: 'request({ url, «strictSSL: false });\n' },
  // js-tls-env-disabled
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: "«process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n" },
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: '«process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0"\n' },
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: "«process.env.NODE_TLS_REJECT_UNAUTHORIZED = insecure ? '0' : '1';\n" },
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: "spawn('node', ['x.js'], { env: { ...process.env, «NODE_TLS_REJECT_UNAUTHORIZED: '0' } });\n" },
  // hardcoded-password
  { rule: 'hardcoded-password', lang: 'python', code: '«password = "hunter2!"\n' },
  { rule: 'hardcoded-password', lang: 'python', code: 'conn = psycopg2.connect(host=h, user="app", «password="Tr0ub4dor&3")\n' },
  { rule: 'hardcoded-password', lang: 'python', code: "«DB_PASSWORD: str = 'correct-horse'\n" },
  { rule: 'hardcoded-password', lang: 'python', code: 'settings[«"password"] = "s3cret-value"\n' },
  { rule: 'hardcoded-password', lang: 'python', code: 'creds = {\n    "user": "admin",\n    «"password": "letmein42",\n}\n' },
  { rule: 'hardcoded-password', lang: 'javascript', code: "const «password = 'hunter2!';\n" },
  { rule: 'hardcoded-password', lang: 'javascript', code: "mysql.createConnection({ user: 'app', «password: 'Tr0ub4dor&3' });\n" },
  { rule: 'hardcoded-password', lang: 'javascript', code: 'const «dbPassword: string = "correct-horse";\n' },
  // python-debug-enabled
  { rule: 'python-debug-enabled', lang: 'python', code: 'if __name__ == "__main__":\n    «app.run(debug=True)\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: '# settings.py\n«DEBUG = True\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: 'api = «FastAPI(title="x", debug=True)\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: '«uvicorn.run(app, port=8000, debug=True)\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: '«app.debug = True\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: '«app.config["DEBUG"] = True\n' },
  // weak-hash-password
  { rule: 'weak-hash-password', lang: 'python', code: 'digest = «hashlib.md5(password.encode()).hexdigest()\n' },
  { rule: 'weak-hash-password', lang: 'python', code: 'h = «hashlib.new("sha1", user["pwd"].encode())\n' },
  { rule: 'weak-hash-password', lang: 'javascript', code: "const hash = «crypto.createHash('md5').update(password).digest('hex');\n" },
  { rule: 'weak-hash-password', lang: 'javascript', code: "const h = crypto\n  .«createHash('sha1')\n  .update(user.password)\n  .digest('hex');\n" },
  // weak-hash
  { rule: 'weak-hash', lang: 'python', code: 'etag = «hashlib.md5(body).hexdigest()\n' },
  { rule: 'weak-hash', lang: 'python', code: "h = «hashlib.new('md5')\n" },
  { rule: 'weak-hash', lang: 'python', code: 'etag = «hashlib.sha1(body).hexdigest()  # a cache key, not a password\n' },
  { rule: 'weak-hash', lang: 'javascript', code: "const etag = «crypto.createHash('sha1').update(buf).digest('hex');\n" },
  // cors-wildcard-credentials
  { rule: 'cors-wildcard-credentials', lang: 'javascript', code: "app.use(«cors({ origin: '*', credentials: true }));\n" },
  { rule: 'cors-wildcard-credentials', lang: 'javascript', code: 'app.use(«cors({\n  credentials: true,\n  origin: true,\n}));\n' },
  { rule: 'cors-wildcard-credentials', lang: 'javascript', code: "await fastify.register(«cors, { origin: '*', credentials: true });\n" },
  {
    rule: 'cors-wildcard-credentials',
    lang: 'javascript',
    code: "res.setHeader(«'Access-Control-Allow-Origin', '*');\nres.setHeader('Access-Control-Allow-Credentials', 'true');\n",
  },
  {
    rule: 'cors-wildcard-credentials',
    lang: 'javascript',
    code: "reply.header(«'access-control-allow-credentials', true);\nreply.header('access-control-allow-origin', '*');\n",
  },
  { rule: 'cors-wildcard-credentials', lang: 'python', code: 'app.add_middleware(«CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n' },
  { rule: 'cors-wildcard-credentials', lang: 'python', code: 'app.add_middleware(\n    «CORSMiddleware,\n    allow_credentials=True,\n    allow_origins=["*"],\n)\n' },
  { rule: 'cors-wildcard-credentials', lang: 'python', code: '«CORS(app, supports_credentials=True)\n' },
  {
    rule: 'cors-wildcard-credentials',
    lang: 'python',
    code: 'response.headers[«"Access-Control-Allow-Origin"] = "*"\nresponse.headers["Access-Control-Allow-Credentials"] = "true"\n',
  },
  // bind-all-interfaces
  { rule: 'bind-all-interfaces', lang: 'python', code: 'app.run(«host="0.0.0.0", port=8000)\n' },
  { rule: 'bind-all-interfaces', lang: 'python', code: "«HOST = '0.0.0.0'\n" },
  { rule: 'bind-all-interfaces', lang: 'python', code: '«sock.bind(("0.0.0.0", 8080))\n' },
  { rule: 'bind-all-interfaces', lang: 'javascript', code: "«app.listen(3000, '0.0.0.0', () => {});\n" },
  { rule: 'bind-all-interfaces', lang: 'javascript', code: 'server.listen({ «host: "0.0.0.0", port });\n' },
  { rule: 'bind-all-interfaces', lang: 'javascript', code: "await fastify.listen({ port: 3000, «host: '::' });\n" },
];

const FALSE_POSITIVES: Sample[] = [
  // python-eval-exec
  { rule: 'python-eval-exec', lang: 'python', code: 'model.eval()\nscore = evaluate(x)\nv = ast.literal_eval(s)\nself.exec_(dialog)\n' },
  { rule: 'python-eval-exec', lang: 'python', code: '# eval(x) would be bad here\ns = "exec(cmd)"\n' },
  { rule: 'python-eval-exec', lang: 'python', code: 'def f():\n    """Never call eval(x) or exec(y) on input."""\n    return 1\n' },
  { rule: 'python-eval-exec', lang: 'python', code: 'class Expr:\n    def eval(self, env):\n        return 1\n' },
  // js-eval
  { rule: 'js-eval', lang: 'javascript', code: "await page.evaluate(() => 1);\nconst t = await page.$eval('#a', (el) => el.textContent);\nmodel.eval();\n" },
  { rule: 'js-eval', lang: 'javascript', code: '// eval(x) is forbidden\nconst s = "eval(x)";\nconst re = /eval\\(/;\nconst u = `eval(${y})`;\n' },
  { rule: 'js-eval', lang: 'javascript', code: '/* eval(a)\n   eval(b) */\nconst evaluation = evaluate(x);\n' },
  // js-new-function
  { rule: 'js-new-function', lang: 'javascript', code: "function isFunction(x) { return typeof x === 'function'; }\nconst t: Function = foo;\nif (x instanceof Function) makeFunction(x);\n" },
  { rule: 'js-new-function', lang: 'javascript', code: '// new Function(body)\nconst s = "new Function(body)";\nobj.Function(x);\n' },
  // js-child-process-exec
  { rule: 'js-child-process-exec', lang: 'javascript', code: "const { exec, execFile } = require('child_process');\nexec('git status', cb);\nexec(`git status`, cb);\nexecFile('git', ['log', branch]);\n" },
  { rule: 'js-child-process-exec', lang: 'javascript', code: "import { exec } from 'node:child_process';\nconst m = /a(b)/.exec(s);\nconst r = re.exec(input);\n// exec(`rm -rf ${dir}`)\n" },
  { rule: 'js-child-process-exec', lang: 'javascript', code: 'const m = pattern.exec(input);\nexec(cmd);\n' }, // no child_process in the file
  { rule: 'js-child-process-exec', lang: 'javascript', code: "declare module 'child_process' {\n  function exec(command: string, callback?: Callback): ChildProcess;\n  execSync(command: string): Buffer;\n}\n" },
  // python-subprocess-shell
  { rule: 'python-subprocess-shell', lang: 'python', code: 'subprocess.run(["ls", d], shell=False)\nsubprocess.run(["ls"])\n' },
  { rule: 'python-subprocess-shell', lang: 'python', code: '# subprocess.run(x, shell=True)\nlog("shell=True is dangerous")\nuse_shell = True\n' },
  // python-os-system
  { rule: 'python-os-system', lang: 'python', code: 'p = os.path.join(a, b)\nname = platform.system()\nmyos.system(x)\n' },
  { rule: 'python-os-system', lang: 'python', code: '# os.system("x")\ns = "os.system(cmd)"\n' },
  // python-pickle-load
  { rule: 'python-pickle-load', lang: 'python', code: 'blob = pickle.dumps(obj)\npickle.dump(obj, f)\ndata = json.loads(text)\n' },
  { rule: 'python-pickle-load', lang: 'python', code: '# pickle.loads(x) is unsafe\nhelp = "pickle.load(f)"\n' },
  // python-yaml-load
  { rule: 'python-yaml-load', lang: 'python', code: 'a = yaml.safe_load(s)\nb = yaml.load(s, Loader=yaml.SafeLoader)\nc = yaml.load(s, Loader=yaml.CSafeLoader)\nd = yaml.load(s, yaml.SafeLoader)\n' },
  { rule: 'python-yaml-load', lang: 'python', code: 'out = yaml.dump(x)\ncfg = json.load(f)\n# yaml.load(x)\n"""yaml.load(stream)"""\n' },
  { rule: 'python-yaml-load', lang: 'python', code: 'docs = yaml.load_all(\n    text,\n    Loader=yaml.SafeLoader,\n)\n' },
  // python-sql-injection
  { rule: 'python-sql-injection', lang: 'python', code: 'cur.execute("SELECT * FROM users WHERE id = %s", (uid,))\ncur.execute("SELECT * FROM users WHERE id = ?", [uid])\n' },
  { rule: 'python-sql-injection', lang: 'python', code: 'cur.execute(f"SELECT 1 FROM dual")\nquery = "SELECT * FROM t"\nquery = f"Hello {name}"\n' },
  { rule: 'python-sql-injection', lang: 'python', code: 'log.info(f"select {n} rows from cache")\nmsg = "Select an item from the list: " + item\n' },
  { rule: 'python-sql-injection', lang: 'python', code: '# cur.execute(f"SELECT * FROM t WHERE id = {x}")\n"""cur.execute(f"SELECT * FROM t WHERE id = {x}")"""\n' },
  // js-sql-injection
  { rule: 'js-sql-injection', lang: 'javascript', code: "await db.query('SELECT * FROM users WHERE id = $1', [id]);\nawait db.query(sql`SELECT * FROM users WHERE id = ${id}`);\n" },
  { rule: 'js-sql-injection', lang: 'javascript', code: 'const rows = await prisma.$queryRaw`SELECT * FROM t WHERE id = ${id}`;\nconst label = `Select ${n} items from the list`;\n' },
  { rule: 'js-sql-injection', lang: 'javascript', code: 'const u = map.get(`user:${id}`);\nconst querySel = document.querySelector(`#${id}`);\n// db.query(`SELECT ${x} FROM t`)\n' },
  // python-tls-verify-disabled
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'requests.get(url, verify=True)\nrequests.get(url, verify="/etc/ssl/ca.pem")\nverify_false_count = 0\n' },
  { rule: 'python-tls-verify-disabled', lang: 'python', code: 'if ctx.verify_mode == ssl.CERT_NONE:\n    warn()\n# requests.get(url, verify=False)\nprint("verify=False")\n' },
  // js-tls-reject-unauthorized
  { rule: 'js-tls-reject-unauthorized', lang: 'javascript', code: 'new https.Agent({ rejectUnauthorized: true });\ntls.connect({ rejectUnauthorized: !insecure });\n' },
  { rule: 'js-tls-reject-unauthorized', lang: 'javascript', code: '// rejectUnauthorized: false\nconst s = "rejectUnauthorized: false";\nif (opts.rejectUnauthorized === false) warn();\n' },
  // js-tls-env-disabled
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '1';\ndelete process.env.NODE_TLS_REJECT_UNAUTHORIZED;\n" },
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: "if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') warn();\n// process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'\n" },
  { rule: 'js-tls-env-disabled', lang: 'javascript', code: 'const help = "set NODE_TLS_REJECT_UNAUTHORIZED=0 to skip";\nprocess.env.NODE_TLS_REJECT_UNAUTHORIZED = "1" // never 0\n' },
  // hardcoded-password
  { rule: 'hardcoded-password', lang: 'python', code: 'password = ""\npassword = "changeme"\npassword = "<your-password>"\npassword = "${DB_PASSWORD}"\n' },
  { rule: 'hardcoded-password', lang: 'python', code: 'password = os.environ["DB_PASSWORD"]\npassword = getpass.getpass()\nif password == "admin":\n    pass\n' },
  { rule: 'hardcoded-password', lang: 'python', code: '# password = "hunter2"\ndef f():\n    """Example: password = "hunter2" """\n' },
  { rule: 'hardcoded-password', lang: 'python', code: 'password_label = "Password"\nPASSWORD_ENV = "DB_PASSWORD"\nmin_password_length = 12\nbody = {"password": ""}\n' },
  { rule: 'hardcoded-password', lang: 'javascript', code: "const password = process.env.DB_PASSWORD;\nconst empty = { password: '' };\nconst masked = { password: '********' };\n" },
  { rule: 'hardcoded-password', lang: 'javascript', code: "// const password = 'hunter2';\nconst msg = \"password: hunter2\";\nif (password === 'admin') deny();\nconst el = <input type=\"password\" />;\n" },
  { rule: 'hardcoded-password', lang: 'python', code: "if user and password:\n    user_pass = '%s:%s' % (user, password)\nif password: label = 'set'\n" },
  // python-debug-enabled
  { rule: 'python-debug-enabled', lang: 'python', code: 'DEBUG = False\nDEBUG = os.environ.get("DEBUG") == "1"\nif DEBUG == True:\n    pass\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: 'app.run(debug=False)\napp.run(debug=args.debug)\nlogging.debug("x")\napp.config["TESTING"] = True\n' },
  { rule: 'python-debug-enabled', lang: 'python', code: '# app.run(debug=True)\nhelp = "DEBUG = True"\n' },
  // weak-hash-password
  { rule: 'weak-hash-password', lang: 'python', code: 'h = hashlib.sha256(password.encode())\nh = hashlib.md5(password, usedforsecurity=False)\n# hashlib.md5(password)\n' },
  { rule: 'weak-hash-password', lang: 'python', code: 'etag = hashlib.md5(body).hexdigest()  # not a password hash\n' },
  { rule: 'weak-hash-password', lang: 'javascript', code: "const h = await bcrypt.hash(password, 12);\nconst d = crypto.createHash('sha256').update(password);\n" },
  // weak-hash
  { rule: 'weak-hash', lang: 'python', code: 'h = hashlib.sha256(body)\nh = hashlib.md5(body, usedforsecurity=False)\n# hashlib.md5(x)\ns = "hashlib.md5(x)"\n' },
  { rule: 'weak-hash', lang: 'javascript', code: "const a = crypto.createHash('sha256');\nconst b = crypto.createHash(algorithm);\nconst s = \"crypto.createHash('md5')\";\n" },
  // cors-wildcard-credentials
  { rule: 'cors-wildcard-credentials', lang: 'javascript', code: "app.use(cors({ origin: 'https://app.example.com', credentials: true }));\napp.use(cors({ origin: '*' }));\napp.use(cors());\n" },
  { rule: 'cors-wildcard-credentials', lang: 'javascript', code: "// app.use(cors({ origin: '*', credentials: true }))\nres.setHeader('Access-Control-Allow-Origin', '*');\n" },
  { rule: 'cors-wildcard-credentials', lang: 'python', code: 'app.add_middleware(CORSMiddleware, allow_origins=["*"])\napp.add_middleware(CORSMiddleware, allow_origins=["https://a.example"], allow_credentials=True)\n' },
  { rule: 'cors-wildcard-credentials', lang: 'python', code: 'CORS(app, origins=["https://a.example"], supports_credentials=True)\nCORS(app)\n' },
  { rule: 'cors-wildcard-credentials', lang: 'python', code: '# app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\ndoc = """CORS(app, supports_credentials=True)"""\n' },
  // bind-all-interfaces
  { rule: 'bind-all-interfaces', lang: 'python', code: 'app.run(host="127.0.0.1")\nif host == "0.0.0.0":\n    warn()\nip = "0.0.0.0"\n' },
  { rule: 'bind-all-interfaces', lang: 'python', code: '# app.run(host="0.0.0.0")\nprint("listening on 0.0.0.0")\n' },
  { rule: 'bind-all-interfaces', lang: 'javascript', code: "app.listen(3000);\napp.listen(3000, 'localhost');\nserver.listen({ host: '127.0.0.1', port });\n// app.listen(80, '0.0.0.0')\n" },
];
