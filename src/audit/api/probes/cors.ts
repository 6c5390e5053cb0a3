import { headerOf, type Exchange } from '../requester.js';
import { addFinding, settle, type ProbeRun } from '../run.js';

/** An origin no governance server should trust. */
export const EVIL_ORIGIN = 'https://evil.example';
const SHOW = ['access-control-allow-origin', 'access-control-allow-credentials'];

/**
 * Probe 10: CORS neither reflects an arbitrary origin nor allows `*` with credentials. One
 * preflight (OPTIONS /v1/check, as a browser would send before a decision) and one simple GET.
 */
export async function probeCors(run: ProbeRun): Promise<void> {
  const id = 'cors-restricted';
  const title = 'CORS does not trust arbitrary origins';
  run.progress(title);
  const before = run.findings.length;
  const exchanges: Exchange[] = [
    await run.req.send({
      method: 'OPTIONS',
      path: '/v1/check',
      headers: { origin: EVIL_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    }),
    await run.req.send({ method: 'GET', path: '/health', headers: { origin: EVIL_ORIGIN } }),
  ];
  let reflected: { e: Exchange; credentials: boolean } | undefined;
  let wildcard: Exchange | undefined;
  for (const e of exchanges) {
    const origin = headerOf(e, 'access-control-allow-origin')?.trim();
    const credentials = headerOf(e, 'access-control-allow-credentials')?.trim().toLowerCase() === 'true';
    if (origin === EVIL_ORIGIN && (reflected === undefined || (credentials && !reflected.credentials))) reflected = { e, credentials };
    if (origin === '*' && credentials) wildcard ??= e;
  }
  if (reflected) {
    addFinding(run, {
      rule: 'api-cors-reflects-origin',
      severity: reflected.credentials ? 'high' : 'medium',
      title: `CORS reflects an arbitrary Origin${reflected.credentials ? ' with credentials allowed' : ''}`,
      at: reflected.e,
      show: { show: SHOW, body: false },
      remediation: 'Allow only the origins of your own front ends (an explicit list); never echo the request Origin back.',
      cwe: 'CWE-942',
    });
  }
  if (wildcard) {
    addFinding(run, {
      rule: 'api-cors-wildcard-credentials',
      severity: 'high',
      title: 'CORS allows any origin (*) together with credentials',
      at: wildcard,
      show: { show: SHOW, body: false },
      remediation: 'Do not combine Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true; list the trusted origins instead.',
      cwe: 'CWE-942',
    });
  }
  settle(run, id, title, before);
}
