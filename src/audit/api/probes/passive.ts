import type { Deviation } from '../../../client/deviations.js';
import { sanitize } from '../evidence.js';
import { headerOf, type Exchange } from '../requester.js';
import { addFinding, isSuccess, outcome, settle, type ProbeRun } from '../run.js';

/**
 * The checks that send nothing: they read every exchange the other probes had (error bodies,
 * headers) and what the client recorded, so they cost no request and see every kind of answer.
 */

interface Leak {
  rule: string;
  title: string;
  severity: 'medium' | 'low';
  pattern: RegExp;
  remediation: string;
  cwe: string;
}

const LEAKS: Leak[] = [
  {
    rule: 'api-error-stack-trace',
    title: 'Error responses contain stack traces',
    severity: 'medium',
    // Python, Node/JS, Java, Go, .NET
    pattern:
      /Traceback \(most recent call last\)|File "[^"\n]+\.py", line \d+|^\s*at [\w$.<>\s[\]]+ \((?:file:\/\/)?[^()\n]+:\d+:\d+\)|\bat [\w$.]+\([\w$]+\.java:\d+\)|goroutine \d+ \[running\]|\bat [\w.`<>]+\(.*\) in .+:line \d+/m,
    remediation: 'Catch unhandled exceptions at the edge and answer a generic {"detail": "Internal server error"}; log the trace server-side only, and turn debug modes off.',
    cwe: 'CWE-209',
  },
  {
    rule: 'api-error-file-path',
    title: 'Responses disclose server file paths',
    severity: 'low',
    pattern: /(?:^|[\s"'(=:])\/(?:home|usr|app|opt|srv|var|root|tmp|src)\/[\w.@+-]+(?:\/[\w.@+-]*)*|\b[A-Za-z]:\\(?:[\w .@+-]+\\)+/m,
    remediation: 'Do not put file system paths in responses: map internal errors to generic messages.',
    cwe: 'CWE-209',
  },
  {
    rule: 'api-framework-banner',
    title: 'Responses reveal the server framework',
    severity: 'low',
    pattern: /Werkzeug Debugger|werkzeug\.exceptions|You're seeing this error because you have <code>DEBUG = True|Whitelabel Error Page|<pre>Cannot (?:GET|POST|PUT|PATCH|DELETE) \//,
    remediation: 'Turn off debug pages and framework default error pages; answer errors as {"detail": ...} JSON.',
    cwe: 'CWE-200',
  },
];

const VERSION = /\d+\.\d+/;
const VERSION_HEADERS = ['server', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version'];

/** Probe 7 (error bodies leak nothing) and 9 (no version disclosure), over every exchange. */
export function checkLeaks(run: ProbeRun): void {
  const id = 'no-information-leaks';
  const title = 'error bodies leak no stack traces, file paths or framework banners';
  const before = run.findings.length;
  const answered = run.req.exchanges.filter((e) => e.status !== undefined);
  const traced = new Set<Exchange>();
  for (const leak of LEAKS) {
    const hits = answered.filter((e) => !(leak.rule === 'api-error-file-path' && traced.has(e)) && leak.pattern.test(e.text));
    if (leak.rule === 'api-error-stack-trace') hits.forEach((e) => traced.add(e));
    if (hits.length === 0) continue;
    const first = hits[0]!;
    addFinding(run, {
      rule: leak.rule,
      severity: leak.severity,
      title: leak.title,
      at: first,
      lead: `seen in ${hits.length} response${hits.length === 1 ? '' : 's'}`,
      show: { around: first.text.search(leak.pattern), show: ['content-type'] },
      remediation: leak.remediation,
      cwe: leak.cwe,
    });
  }
  // X-Powered-By without a version is a banner; with one, it is a version disclosure (below).
  const powered = answered.find((e) => headerOf(e, 'x-powered-by') !== undefined && !VERSION.test(headerOf(e, 'x-powered-by')!));
  if (powered) {
    addFinding(run, {
      rule: 'api-framework-banner',
      severity: 'low',
      title: 'Responses reveal the server framework',
      at: powered,
      show: { show: ['x-powered-by'], body: false },
      remediation: 'Remove the X-Powered-By header (e.g. app.disable("x-powered-by") in Express).',
      cwe: 'CWE-200',
      distinct: ['x-powered-by'],
    });
  }
  settle(run, id, title, before, `${answered.length} responses read`);

  const versionId = 'no-version-disclosure';
  const versionTitle = 'no version numbers in Server or X-Powered-By';
  const beforeVersion = run.findings.length;
  const disclosing = answered.find((e) => VERSION_HEADERS.some((h) => VERSION.test(headerOf(e, h) ?? '')));
  if (disclosing) {
    const names = VERSION_HEADERS.filter((h) => VERSION.test(headerOf(disclosing, h) ?? ''));
    addFinding(run, {
      rule: 'api-version-disclosure',
      severity: 'low',
      title: 'Response headers disclose software versions',
      at: disclosing,
      show: { show: names, body: false },
      remediation: 'Strip version numbers from Server and X-Powered-By (uvicorn --no-server-header, nginx server_tokens off, ...).',
      cwe: 'CWE-200',
    });
  }
  settle(run, versionId, versionTitle, beforeVersion);
}

interface HeaderRule {
  rule: string;
  title: string;
  severity: 'medium' | 'low';
  header: string[];
  ok: (e: Exchange) => boolean;
  remediation: string;
  cwe?: string;
}

const frameProtected = (e: Exchange): boolean =>
  /^\s*(deny|sameorigin)\s*$/i.test(headerOf(e, 'x-frame-options') ?? '') || /frame-ancestors/i.test(headerOf(e, 'content-security-policy') ?? '');

/** Probe 8: security headers, one finding per header missing (from any answer that should carry it). */
export function checkSecurityHeaders(run: ProbeRun): void {
  const id = 'security-headers';
  const title = 'security headers are sent';
  const before = run.findings.length;
  const answered = run.req.exchanges.filter((e) => e.status !== undefined);
  const keyBearing = answered.filter((e) => e.path.startsWith('/api/admin/') && isSuccess(e));
  const rules: Array<HeaderRule & { over: Exchange[] }> = [
    {
      rule: 'api-missing-x-content-type-options',
      title: 'Responses lack X-Content-Type-Options: nosniff',
      severity: 'low',
      header: ['x-content-type-options'],
      ok: (e) => /^\s*nosniff\s*$/i.test(headerOf(e, 'x-content-type-options') ?? ''),
      remediation: 'Send X-Content-Type-Options: nosniff on every response.',
      cwe: 'CWE-693',
      over: answered,
    },
    {
      rule: 'api-missing-frame-protection',
      title: 'Responses lack X-Frame-Options or CSP frame-ancestors',
      severity: 'low',
      header: ['x-frame-options', 'content-security-policy'],
      ok: frameProtected,
      remediation: "Send X-Frame-Options: DENY (or Content-Security-Policy: frame-ancestors 'none') on every response.",
      cwe: 'CWE-1021',
      over: answered,
    },
    {
      rule: 'api-missing-hsts',
      title: 'HTTPS responses lack Strict-Transport-Security',
      severity: 'medium',
      header: ['strict-transport-security'],
      ok: (e) => /max-age\s*=\s*[1-9]/i.test(headerOf(e, 'strict-transport-security') ?? ''),
      remediation: 'Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every HTTPS response.',
      cwe: 'CWE-319',
      over: run.https ? answered : [],
    },
    {
      rule: 'api-key-response-cacheable',
      title: 'Admin responses (API key data) may be cached',
      severity: 'medium',
      header: ['cache-control'],
      ok: (e) => /no-store|private|no-cache/i.test(headerOf(e, 'cache-control') ?? ''),
      remediation: 'Send Cache-Control: no-store on admin responses, above all the one that returns a new key.',
      cwe: 'CWE-524',
      over: keyBearing,
    },
  ];
  for (const r of rules) {
    const lacking = r.over.filter((e) => !r.ok(e));
    if (lacking.length === 0) continue;
    addFinding(run, {
      rule: r.rule,
      severity: r.severity,
      title: r.title,
      at: lacking[0]!,
      lead: `missing on ${lacking.length} of ${r.over.length} responses`,
      show: { show: r.header, body: false },
      remediation: r.remediation,
      ...(r.cwe ? { cwe: r.cwe } : {}),
    });
  }
  const notes = [keyBearing.length === 0 ? 'no admin response seen: Cache-Control not checked' : '', run.https ? '' : 'plain HTTP: HSTS not checked']
    .filter(Boolean)
    .join('; ');
  settle(run, id, title, before, notes || undefined);
}

/** Probe 12: plain http:// to a host that is not this machine sends keys in clear text. */
export function checkTransport(run: ProbeRun): void {
  const id = 'transport-encrypted';
  const title = 'a non-loopback server is reached over HTTPS';
  const before = run.findings.length;
  if (!run.https && !run.loopback) {
    addFinding(run, {
      rule: 'api-plain-http',
      severity: 'high',
      title: 'The API is served over plain HTTP to a non-loopback host',
      at: { method: 'GET', path: '/' },
      evidence: `${run.req.urlOf('/')}: API keys travel in clear text`,
      remediation: 'Serve the API over HTTPS only (terminate TLS at the server or a proxy) and redirect or refuse plain HTTP.',
      cwe: 'CWE-319',
    });
  }
  settle(run, id, title, before, run.loopback && !run.https ? 'loopback host: plain HTTP not flagged' : undefined);
}

/** Probe 13: the ways the server's answers left the contract, as the client tolerated them. */
export function checkDeviations(run: ProbeRun, deviations: ReadonlyArray<Deviation & { count: number }>): void {
  const id = 'contract-deviations';
  const title = 'answers follow the governance API contract';
  const before = run.findings.length;
  for (const d of deviations) {
    const [method = 'GET', path = '/'] = (d.operation ?? 'GET /').split(' ');
    addFinding(run, {
      rule: 'api-contract-deviation',
      severity: 'info',
      title: `The server's answer differs from the contract at ${d.path}`,
      at: { method, path },
      evidence: sanitize(`${d.operation ?? ''} ${d.path}: expected ${d.expected}, got ${d.got}${d.count > 1 ? ` (${d.count} times)` : ''}`.trim(), run.secrets),
      remediation: 'Answer as the governance API contract says (shared/governance-api.md); govctl tolerated this difference.',
      distinct: [d.path, d.expected],
    });
  }
  if (deviations.length === 0) outcome(run, id, title, 'passed');
  else settle(run, id, title, before, `${deviations.length} distinct deviation(s) recorded by the client`);
}
