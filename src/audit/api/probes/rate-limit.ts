import { BudgetExhaustedError, headerOf, type Exchange } from '../requester.js';
import { addFinding, bearer, json, outcome, settle, type ProbeRun, userTokenFor } from '../run.js';

const CHECK = '/v1/check';
/** The contract's default limit, used when the server does not announce one. */
export const DOCUMENTED_LIMIT = 100;
/** Requests past the limit the probe allows before it says there is no limit. */
const SLACK = 5;
/** An announced limit larger than this is not believed to be testable within any budget. */
const MAX_TESTED_LIMIT = 1000;
const RATE_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

/**
 * Probe 4: rate limiting engages. Sends up to (announced or documented limit) + 5 valid
 * decisions with the user key (the earlier probes' requests with it count too) and expects a
 * 429 with Retry-After. Run last among the user-key probes: afterwards the key is limited.
 */
export async function probeRateLimit(run: ProbeRun): Promise<void> {
  const id = 'rate-limit-engages';
  const title = 'rate limiting engages (429 with Retry-After)';
  const token = userTokenFor(run, id, title);
  if (token === undefined) return;
  run.progress(title);
  const before = run.findings.length;
  const body = JSON.stringify({ model: 'govctl-audit', operation: 'rate-limit-probe' });
  const send = () => run.req.send({ method: 'POST', path: CHECK, headers: { ...bearer(token!), ...json }, body, bodyNote: `JSON ${body}` });
  let first: Exchange;
  try {
    first = await send();
  } catch (err) {
    if (err instanceof BudgetExhaustedError) return outcome(run, id, title, 'skipped', 'request budget exhausted before this probe');
    throw err;
  }
  const announced = Number(headerOf(first, 'x-ratelimit-limit'));
  const limit = Number.isSafeInteger(announced) && announced > 0 ? announced : DOCUMENTED_LIMIT;
  if (limit > MAX_TESTED_LIMIT) return outcome(run, id, title, 'skipped', `the announced limit (${limit}) is too large to test within the budget`);
  const seen: Exchange[] = [first];
  let limited = first.status === 429 ? first : undefined;
  let exhausted = false;
  while (limited === undefined && seen.length < limit + SLACK) {
    let e: Exchange;
    try {
      e = await send();
    } catch (err) {
      if (!(err instanceof BudgetExhaustedError)) throw err;
      exhausted = true;
      break;
    }
    seen.push(e);
    if (e.status === 429) limited = e;
  }
  if (limited === undefined && exhausted) {
    return outcome(run, id, title, 'skipped', `request budget exhausted after ${seen.length} of ${limit + SLACK} requests without a 429: inconclusive`);
  }
  if (limited === undefined) {
    const statuses = [...new Set(seen.map((e) => e.status ?? 'none'))].join(', ');
    addFinding(run, {
      rule: 'api-no-rate-limit',
      severity: 'high',
      title: 'No rate limiting on the decision endpoint',
      at: seen[seen.length - 1]!,
      lead: `${seen.length} requests with one key (limit ${limit}${Number.isNaN(announced) ? ', the documented default' : ', as announced'} + ${SLACK}) got no 429; statuses: ${statuses}`,
      show: { show: ['x-ratelimit-limit', 'x-ratelimit-remaining'] },
      remediation: 'Limit requests per API key on /v1/check and /api/evaluate (default 100 per 60 s) and answer 429 with Retry-After over the limit.',
      cwe: 'CWE-770',
    });
    return settle(run, id, title, before);
  }
  if (headerOf(limited, 'retry-after') === undefined) {
    addFinding(run, {
      rule: 'api-429-without-retry-after',
      severity: 'medium',
      title: '429 answers lack Retry-After',
      at: limited,
      show: { show: ['retry-after'] },
      remediation: 'Send Retry-After (seconds until the window resets) with every 429, so clients back off instead of retrying at once.',
    });
  }
  const missing = RATE_HEADERS.filter((h) => headerOf(limited!, h) === undefined || headerOf(seen[0]!, h) === undefined);
  if (missing.length > 0) {
    addFinding(run, {
      rule: 'api-rate-limit-headers-missing',
      severity: 'low',
      title: 'Rate-limited responses lack X-RateLimit-* headers',
      at: limited,
      lead: `missing on the 429 or on an allowed decision: ${missing.join(', ')}`,
      show: { show: RATE_HEADERS, body: false },
      remediation: 'Send X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset on every response of the rate-limited routes.',
    });
  }
  settle(run, id, title, before, `429 after ${seen.length} requests in this probe`);
}
