import type { Exchange, RawRequest } from '../requester.js';
import { addFinding, bearer, isSuccess, json, settle, type ProbeRun, userTokenFor } from '../run.js';

const CHECK = '/v1/check';
const base = { model: 'govctl-audit', operation: 'input-probe' };

/** Bodies carrying content the API must never receive, one per way a server could miss it. */
const FORBIDDEN: ReadonlyArray<{ what: string; body: unknown }> = [
  { what: 'top-level "prompt"', body: { ...base, prompt: 'govctl audit probe' } },
  { what: 'nested "metadata.messages[0].content"', body: { ...base, metadata: { messages: [{ content: 'govctl audit probe' }] } } },
  { what: '"Content" (case)', body: { ...base, Content: 'govctl audit probe' } },
];

/** Probe 5: bodies with forbidden content fields are rejected (400), never decided. */
export async function probeForbiddenContent(run: ProbeRun): Promise<void> {
  const id = 'forbidden-content-rejected';
  const title = 'forbidden content fields are rejected';
  const token = userTokenFor(run, id, title);
  if (token === undefined) return;
  run.progress(title);
  const before = run.findings.length;
  const accepted: Array<{ what: string; e: Exchange }> = [];
  const other: string[] = [];
  for (const f of FORBIDDEN) {
    const body = JSON.stringify(f.body);
    const e = await run.req.send({ method: 'POST', path: CHECK, headers: { ...bearer(token), ...json }, body, bodyNote: `JSON ${body}` });
    if (isSuccess(e)) accepted.push({ what: f.what, e });
    else if (e.status !== 400) other.push(`${f.what}: ${e.status ?? e.error}`);
  }
  if (accepted.length > 0) {
    addFinding(run, {
      rule: 'api-forbidden-content-accepted',
      severity: 'high',
      title: 'Requests carrying content fields (prompt, messages, ...) are accepted',
      at: accepted[0]!.e,
      lead: `accepted: ${accepted.map((a) => a.what).join(', ')}`,
      remediation:
        'Reject any body with a key named prompt, text, input, message, messages or content (any depth, any case) with 400, before it is logged or scored.',
      cwe: 'CWE-359',
    });
  }
  settle(run, id, title, before, other.length > 0 ? `refused with a status other than 400: ${other.join('; ')}` : undefined);
}

/** Just over the contract's 1 MiB body limit. */
const HUGE = 1024 * 1024 + 64 * 1024;

function malformed(token: string): Array<{ what: string; req: RawRequest; expect: string }> {
  const auth = bearer(token);
  const huge = JSON.stringify({ ...base, model: 'x'.repeat(HUGE) });
  return [
    { what: 'invalid JSON', expect: '400', req: { method: 'POST', path: CHECK, headers: { ...auth, ...json }, body: '{"model": "govctl-audit", ', bodyNote: 'invalid JSON {"model": "govctl-audit", ' } },
    {
      what: 'wrong types',
      expect: '422',
      req: { method: 'POST', path: CHECK, headers: { ...auth, ...json }, body: '{"model": 12, "operation": ["x"], "metadata": "x"}', bodyNote: 'JSON {"model": 12, "operation": ["x"], "metadata": "x"}' },
    },
    { what: 'missing fields', expect: '422', req: { method: 'POST', path: CHECK, headers: { ...auth, ...json }, body: '{}', bodyNote: 'JSON {}' } },
    { what: 'a non-object body', expect: '422', req: { method: 'POST', path: CHECK, headers: { ...auth, ...json }, body: '[1, 2, 3]', bodyNote: 'JSON [1, 2, 3]' } },
    {
      what: 'a body over 1 MiB',
      expect: '413',
      req: { method: 'POST', path: CHECK, headers: { ...auth, ...json }, body: huge, bodyNote: `JSON with a ${(huge.length / 1048576).toFixed(2)} MiB "model" string` },
    },
    {
      what: 'a wrong content type',
      expect: '415',
      req: { method: 'POST', path: CHECK, headers: { ...auth, 'content-type': 'text/plain' }, body: 'model=govctl-audit', bodyNote: 'text/plain model=govctl-audit' },
    },
  ];
}

/** Probe 6: malformed input gets a 4xx, never a 5xx (nor a decision). */
export async function probeMalformedInput(run: ProbeRun): Promise<void> {
  const id = 'malformed-input-4xx';
  const title = 'malformed input gets 4xx, not 5xx';
  const token = userTokenFor(run, id, title, 'without one the server refuses before reading the body');
  if (token === undefined) return;
  run.progress(title);
  const before = run.findings.length;
  const crashed: Array<{ what: string; e: Exchange }> = [];
  const accepted: Array<{ what: string; e: Exchange }> = [];
  const notes: string[] = [];
  for (const m of malformed(token)) {
    const e = await run.req.send(m.req);
    if (e.status === undefined) notes.push(`${m.what}: no answer (${e.error})`);
    else if (e.status >= 500) crashed.push({ what: m.what, e });
    else if (isSuccess(e)) accepted.push({ what: m.what, e });
    else if (String(e.status) !== m.expect) notes.push(`${m.what}: ${e.status} (contract: ${m.expect})`);
  }
  if (crashed.length > 0) {
    addFinding(run, {
      rule: 'api-malformed-input-5xx',
      severity: 'medium',
      title: 'Malformed input makes the server fail with 5xx',
      at: crashed[0]!.e,
      lead: `5xx for: ${crashed.map((c) => `${c.what} (${c.e.status})`).join(', ')}`,
      remediation: 'Validate bodies before use (size limit, JSON parse, schema) and answer 400/413/415/422; a 5xx on bad input points at an unhandled exception.',
      cwe: 'CWE-20',
    });
  }
  if (accepted.length > 0) {
    addFinding(run, {
      rule: 'api-malformed-input-accepted',
      severity: 'medium',
      title: 'Malformed input is accepted with 2xx',
      at: accepted[0]!.e,
      lead: `2xx for: ${accepted.map((c) => c.what).join(', ')}`,
      remediation: 'Validate every request body against its schema (types, required fields, size) and reject what does not fit with 4xx.',
      cwe: 'CWE-20',
    });
  }
  settle(run, id, title, before, notes.length > 0 ? notes.join('; ') : undefined);
}
