import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken } from '../../src/core/api-token.js';
import { check, expectError, expectFieldError, expectNoLeak, keyIdOf, rawHttp, secretOf } from '../helpers/contract.js';
import { call, createKey, type Answer, type CallOptions } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** `depth` nested arrays around `inner`: flat text, so building it cannot overflow anything. */
function nestedArrays(depth: number, inner = '1'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** `depth` nested objects {"a": ...} around `inner`. */
function nestedObjects(depth: number, inner = '1'): string {
  return '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

describe('bad input', () => {
  let s: TestServer;
  let user: string;

  beforeAll(async () => {
    s = await startTestServer({ rateLimit: { limit: 100_000, windowMs: 60_000 } });
    user = await createKey(s.url, s.adminToken, 'bad-input');
  });
  afterAll(() => s.close());

  /** Any request in this suite: a 4xx (or the expected success), never a 5xx, never a leak. */
  async function probe(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const answer = await call(s.url, method, path, options);
    expect(answer.status, `${method} ${path}`).toBeLessThan(500);
    expectNoLeak(answer.text);
    return answer;
  }

  const admin = () => s.adminToken;

  describe('malformed bodies', () => {
    const MALFORMED = [
      '{',
      '{"model":',
      '{"model":"m","operation":"o"',
      "{'model':'m','operation':'o'}",
      '{"model":"m",}',
      '{"model":"m" "operation":"o"}',
      '{"model":"m","operation":"o"}garbage',
      'nul',
      'NaN',
      '{"model":NaN}',
      '{"model":"\\x41"}',
      '\u0000\u0001\u0002',
      '\uFEFF',
      '}{',
    ];

    it('refuses malformed JSON with 400 "Request body is not valid JSON" on every JSON route', async () => {
      const routes: Array<[string, string, string]> = [
        ['POST', '/v1/check', user],
        ['POST', '/api/evaluate', user],
        ['POST', '/api/admin/keys', admin()],
        ['PATCH', '/api/admin/policies/max_risk_score', admin()],
      ];
      for (const [method, path, token] of routes) {
        for (const raw of MALFORMED) {
          const answer = await probe(method, path, { token, raw });
          expect(answer.status, `${path} ${JSON.stringify(raw)}`).toBe(400);
          expect(answer.body.detail).toMatch(/^Request body is not valid JSON/);
        }
      }
    });

    it('refuses a JSON body that is not an object: 422 naming the body', async () => {
      for (const raw of ['[]', '[{"model":"m","operation":"o"}]', '"model"', '123', '-1.5e300', 'true', 'null']) {
        expectFieldError(await probe('POST', '/v1/check', { token: user, raw }), 'body');
        expectFieldError(await probe('POST', '/api/admin/keys', { token: admin(), raw }), 'body');
        expectFieldError(await probe('PATCH', '/api/admin/policies/1', { token: admin(), raw }), 'body');
      }
    });

    it('an empty body: 400 with JSON declared, 422 without', async () => {
      const empty = await probe('POST', '/v1/check', { token: user, raw: '' });
      expectError(empty, 400);
      expect(empty.body.detail).toMatch(/empty/i);
      expectFieldError(await probe('POST', '/v1/check', { token: user }), 'body');
      expectFieldError(await probe('POST', '/api/admin/keys', { token: admin() }), 'body');
    });

    it('a body of another media type: 415 or 422, never parsed as content', async () => {
      const form = await probe('POST', '/v1/check', { token: user, raw: 'model=m&operation=o', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expectError(form, 415);
      const xml = await probe('POST', '/v1/check', { token: user, raw: '<check/>', headers: { 'content-type': 'application/xml' } });
      expectError(xml, 415);
      // text/plain too: fastify would otherwise parse it into a string and answer 422.
      const text = await probe('POST', '/v1/check', { token: user, raw: 'prompt: hello', headers: { 'content-type': 'text/plain' } });
      expectError(text, 415);
      expect(text.body).toEqual({ detail: 'Unsupported Media Type: send the body as application/json', code: 'unsupported_media_type' });
      const textUtf8 = await probe('POST', '/api/admin/keys', { token: admin(), raw: 'name=x', headers: { 'content-type': 'text/plain; charset=utf-8' } });
      expectError(textUtf8, 415);
      const bogus = await probe('POST', '/v1/check', { token: user, raw: '{}', headers: { 'content-type': '}{not a type' } });
      expect(bogus.status).toBeGreaterThanOrEqual(400);
    });

    it('wrong types inside a valid object: 422 naming each field', async () => {
      const answer = await probe('POST', '/v1/check', { token: user, body: { model: 1, operation: ['o'], metadata: 'x' } });
      for (const field of ['model', 'operation', 'metadata']) expectFieldError(answer, 'body', field);
      const huge = await probe('POST', '/v1/check', { token: user, raw: '{"model":1e999,"operation":-0}' });
      expectFieldError(huge, 'body', 'model');
    });

    it('prototype-pollution payloads are refused and pollute nothing', async () => {
      for (const raw of [
        '{"model":"m","operation":"o","__proto__":{"polluted":true}}',
        '{"model":"m","operation":"o","metadata":{"constructor":{"prototype":{"polluted":true}}}}',
      ]) {
        const answer = await probe('POST', '/v1/check', { token: user, raw });
        expect(answer.status).toBe(400);
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect((await check(s.url, user, {})).body).toMatchObject({ allowed: true, risk_score: 0 });
    });
  });

  describe('big and deep bodies', () => {
    it('413 for bodies over 1 MiB, however large, and on every JSON route', async () => {
      for (const size of [1024 * 1024 + 1, 2 * 1024 * 1024, 8 * 1024 * 1024]) {
        const raw = `{"model":"m","operation":"o","metadata":{"pad":"${'x'.repeat(size)}"}}`;
        expectError(await probe('POST', '/v1/check', { token: user, raw }), 413);
      }
      const raw = `{"name":"${'n'.repeat(2 * 1024 * 1024)}"}`;
      expectError(await probe('POST', '/api/admin/keys', { token: admin(), raw }), 413);
      expectError(await probe('PATCH', '/api/admin/policies/1', { token: admin(), raw: `{"value":"${'v'.repeat(2 * 1024 * 1024)}"}` }), 413);
      expectError(await probe('POST', '/api/evaluate', { token: user, raw }), 413);
    });

    it('checks the key before reading a big body', async () => {
      const raw = `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
      expectError(await probe('POST', '/v1/check', { raw }), 401, 'Missing API key');
    });

    it('100,000 levels of nesting in metadata (under 1 MiB) are decided, not crashed on', async () => {
      const deep = nestedArrays(100_000);
      expect(deep.length).toBeLessThan(1024 * 1024);
      const answer = await probe('POST', '/v1/check', { token: user, raw: `{"model":"m","operation":"o","metadata":{"a":${deep}}}` });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ allowed: true, risk_score: 0 });
      const objects = nestedObjects(100_000);
      expect((await probe('POST', '/v1/check', { token: user, raw: `{"model":"m","operation":"o","metadata":${objects}}` })).status).toBe(200);
    });

    it('finds a forbidden field at the bottom of 100,000 levels', async () => {
      const raw = `{"model":"m","operation":"o","metadata":${nestedObjects(100_000, '{"Message":"hi"}')}}`;
      expectError(await probe('POST', '/v1/check', { token: user, raw }), 400, 'Request contains forbidden content fields: message');
      const inArrays = `{"model":"m","operation":"o","metadata":{"a":${nestedArrays(100_000, '{"prompt":1}')}}}`;
      expectError(await probe('POST', '/v1/check', { token: user, raw: inArrays }), 400, 'Request contains forbidden content fields: prompt');
    });

    it('deep nesting where a string or an object belongs: 422, never a 500', async () => {
      const deep = nestedArrays(100_000);
      expectFieldError(await probe('POST', '/v1/check', { token: user, raw: deep }), 'body');
      expectFieldError(await probe('POST', '/v1/check', { token: user, raw: `{"model":${deep},"operation":"o"}` }), 'body', 'model');
      expectFieldError(await probe('POST', '/api/admin/keys', { token: admin(), raw: `{"name":${deep}}` }), 'body', 'name');
      expectFieldError(await probe('PATCH', '/api/admin/policies/1', { token: admin(), raw: `{"enabled":${deep}}` }), 'body', 'enabled');
      expect((await probe('POST', '/api/evaluate', { token: user, raw: deep })).status).toBe(200);
    });

    it('a deeply nested policy value is refused (422) and changes nothing', async () => {
      const before = (await probe('GET', '/api/admin/policies', { token: admin() })).body;
      for (const depth of [33, 1000, 100_000]) {
        const answer = await probe('PATCH', '/api/admin/policies/block_personal_data', { token: admin(), raw: `{"value":${nestedArrays(depth)}}` });
        expectFieldError(answer, 'body', 'value');
        const objects = await probe('PATCH', '/api/admin/policies/block_personal_data', { token: admin(), raw: `{"value":${nestedObjects(depth)}}` });
        expectFieldError(objects, 'body', 'value');
      }
      expect((await probe('GET', '/api/admin/policies', { token: admin() })).body).toEqual(before);
      // A modestly nested value passes the depth check and is then judged by the policy's shape.
      const shaped = await probe('PATCH', '/api/admin/policies/block_personal_data', { token: admin(), raw: `{"value":${nestedObjects(10)}}` });
      expectFieldError(shaped, 'body', 'value');
      expect(shaped.body.detail[0].type).not.toBe('too_deep');
      expect((await probe('PATCH', '/api/admin/policies/block_personal_data', { token: admin(), body: { value: null } })).status).toBe(200);
    });
  });

  describe('unknown routes and methods', () => {
    it('404 {"detail":"Not Found"} for unknown paths, with or without a key', async () => {
      const paths = ['/', '/nope', '/v1', '/v1/check/extra', '/v2/check', '/api', '/api/admin', '/api/admin/', '/api/admin/nope', '/health/', '/metrics/x', '/%2e%2e/etc/passwd', '/api/admin/keys/a/b/c'];
      for (const path of paths) {
        for (const token of [undefined, user, admin()]) {
          const answer = await probe('GET', path, token ? { token } : {});
          expect(answer.status, path).toBe(404);
          expect(answer.body.detail).toBe('Not Found');
        }
      }
    });

    it('404 for a known path with a method it does not serve', async () => {
      const cases: Array<[string, string]> = [
        ['GET', '/v1/check'],
        ['PUT', '/v1/check'],
        ['DELETE', '/v1/check'],
        ['PATCH', '/api/evaluate'],
        ['POST', '/health'],
        ['DELETE', '/metrics'],
        ['PUT', '/api/admin/keys'],
        ['GET', '/api/admin/keys/x/rotate'],
        ['POST', '/api/admin/policies'],
        ['DELETE', '/api/admin/logs'],
        ['OPTIONS', '/api/admin/keys'],
      ];
      for (const [method, path] of cases) {
        const answer = await probe(method, path, { token: admin() });
        expect([404, 405], `${method} ${path}`).toContain(answer.status);
        expect(typeof answer.body.detail).toBe('string');
      }
    });

    it('a request line the HTTP parser refuses: 400 with a detail', async () => {
      for (const request of [
        'FOO /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        'GET /health HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n',
        'GET health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n',
        'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\nConnection: close\r\n\r\n',
        'garbage\r\n\r\n',
      ]) {
        const answer = await rawHttp(s.url, request);
        expect(answer.status, JSON.stringify(request)).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expectNoLeak(answer.body);
        if (answer.body) expect(typeof JSON.parse(answer.body).detail).toBe('string');
      }
    });

    it('bad percent-encoding in the path: 400 with a detail', async () => {
      for (const path of ['/api/admin/keys/%E0%A4%A', '/api/admin/policies/%ZZ', '/api/admin/audit/backups/%']) {
        const answer = await probe('GET', path, { token: admin() });
        expect(answer.status).toBe(400);
        expect(typeof answer.body.detail).toBe('string');
        expect(answer.headers['x-content-type-options']).toBe('nosniff');
      }
    });

    it('an over-long path parameter: a 4xx with a detail', async () => {
      for (const [method, path] of [
        ['DELETE', `/api/admin/keys/${'k'.repeat(5000)}`],
        ['PATCH', `/api/admin/policies/${'p'.repeat(5000)}`],
        ['GET', `/api/admin/audit/backups/${'b'.repeat(5000)}`],
      ] as const) {
        const answer = await probe(method, path, { token: admin(), ...(method === 'PATCH' ? { body: { enabled: true } } : {}) });
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(typeof answer.body.detail).toBe('string');
      }
    });

    it('odd ids in admin paths are just unknown: 404', async () => {
      for (const id of ["' OR 1=1 --", '../../etc/passwd', '%00', ' ', 'null', '-1', '1e3', '<script>']) {
        const encoded = encodeURIComponent(id);
        expectError(await probe('DELETE', `/api/admin/keys/${encoded}`, { token: admin() }), 404);
        expectError(await probe('POST', `/api/admin/keys/${encoded}/rotate`, { token: admin() }), 404);
        expectError(await probe('PATCH', `/api/admin/policies/${encoded}`, { token: admin(), body: { enabled: true } }), 404);
        expectError(await probe('GET', `/api/admin/audit/backups/${encoded}`, { token: admin() }), 404);
      }
    });

    it('an unknown backup id: 404 on every backup route', async () => {
      for (const [method, path] of [
        ['GET', '/api/admin/audit/backups/does-not-exist'],
        ['POST', '/api/admin/audit/backups/does-not-exist/verify'],
        ['POST', '/api/admin/audit/backups/does-not-exist/restore'],
        ['DELETE', '/api/admin/audit/backups/does-not-exist'],
      ] as const) {
        expectError(await probe(method, path, { token: admin() }), 404);
      }
    });
  });

  describe('bad tokens', () => {
    it('each malformed Authorization header gets the right 401 detail', async () => {
      const unknown = newApiToken();
      const cases: Array<[string, string]> = [
        ['', 'Missing API key'],
        ['Bearer', 'Invalid API key format'],
        ['Bearer ', 'Invalid API key format'],
        ['Basic x', 'Invalid API key format'],
        ['Basic dXNlcjpwYXNz', 'Invalid API key format'],
        ['Digest username="x"', 'Invalid API key format'],
        ['Bearer nodot', 'Invalid API key format'],
        [`Bearer ${user}.`, 'Invalid API key format'],
        ['Bearer ...', 'Invalid API key format'], // nothing after the last dot
        ['Bearer .', 'Invalid API key format'],
        ['Bearer a.', 'Invalid API key format'],
        ['Bearer .a', 'Invalid API key format'],
        ['Bearer a.b', 'Invalid API key'],
        [`Bearer ${user}, Bearer ${user}`, 'Invalid API key format'],
        [`Bearer\t${user}x`, 'Invalid API key'],
        [`Bearer ${'a'.repeat(4000)}.${'b'.repeat(4000)}`, 'Invalid API key'],
        [`Bearer ${'.'.repeat(3000)}`, 'Invalid API key format'],
        [`Bearer ${'.'.repeat(3000)}x`, 'Invalid API key'],
        [`Bearer ${unknown.token}`, 'Invalid API key'],
        [`Bearer ${keyIdOf(user)}.${unknown.secret}`, 'Invalid API key'],
        [`Bearer ${keyIdOf(user)}.${secretOf(user)}=`, 'Invalid API key'],
        [`Bearer ${keyIdOf(user)}.${Buffer.from(secretOf(user), 'base64url').toString('base64')}`, 'Invalid API key'],
        ["Bearer ' OR 1=1 --.x", 'Invalid API key format'], // spaces: more than one token
        ["Bearer '--;DROP/**/TABLE/**/api_keys.x", 'Invalid API key'],
        ['Bearer %00.%00', 'Invalid API key'],
      ];
      for (const [authorization, detail] of cases) {
        for (const [method, path] of [
          ['POST', '/v1/check'],
          ['GET', '/api/admin/keys'],
        ] as const) {
          const answer = await probe(method, path, { headers: { authorization }, ...(method === 'POST' ? { body: { model: 'm', operation: 'o' } } : {}) });
          expect({ authorization: authorization.slice(0, 60), status: answer.status, detail: answer.body.detail }).toEqual({
            authorization: authorization.slice(0, 60),
            status: 401,
            detail,
          });
          expect(answer.headers['www-authenticate']).toBe('Bearer');
        }
      }
    });

    it('non-ASCII bytes in the token: 401 with the right detail', async () => {
      const cases: Array<[string, string]> = [
        ['ключ.секрет', 'Invalid API key'],
        [`${keyIdOf(user)}.${secretOf(user).slice(0, -1)}é`, 'Invalid API key'],
        ['🔑.🔑', 'Invalid API key'],
        [`${keyIdOf(user)}.${secretOf(user)}\u00a0`, 'Invalid API key'],
        // A no-break space (bytes C2 A0) splits the token in two.
        [`${keyIdOf(user)}\u00a0.${secretOf(user)}`, 'Invalid API key format'],
        ['ключ', 'Invalid API key format'],
      ];
      for (const [token, detail] of cases) {
        const request = Buffer.concat([
          Buffer.from('POST /api/evaluate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: Bearer '),
          Buffer.from(token, 'utf8'),
          Buffer.from('\r\n\r\n'),
        ]);
        const answer = await rawHttp(s.url, request);
        expect({ token, status: answer.status, detail: JSON.parse(answer.body).detail }).toEqual({ token, status: 401, detail });
        expect(answer.headers['www-authenticate']).toBe('Bearer');
        expectNoLeak(answer.body);
      }
    });

    it('control characters in the header: refused by the parser with a 400 and a detail', async () => {
      for (const token of [`${keyIdOf(user)}\u0000.${secretOf(user)}`, `a\u0001b.c`, `${user}\u007f`]) {
        const answer = await rawHttp(s.url, `POST /api/evaluate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        expect(answer.status).toBe(400);
        expect(typeof JSON.parse(answer.body).detail).toBe('string');
        expectNoLeak(answer.body);
      }
    });

    it('a header too large for the server: 431 with a detail', async () => {
      const answer = await probe('POST', '/api/evaluate', { headers: { authorization: `Bearer ${'a'.repeat(40_000)}.${'b'.repeat(43)}` } });
      expect(answer.status).toBe(431);
      expect(typeof answer.body.detail).toBe('string');
    });

    it('two Authorization headers are not a way in', async () => {
      const request = `POST /api/evaluate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: Bearer ${newApiToken().token}\r\nAuthorization: Bearer ${user}\r\n\r\n`;
      const answer = await rawHttp(s.url, request);
      expect(answer.status).not.toBe(200);
      expect(answer.status).toBeLessThan(500);
      expectNoLeak(answer.body);
    });
  });

  describe('bad query strings', () => {
    it('a repeated parameter is refused, not guessed at: 422', async () => {
      for (const query of ['model=a&model=b', 'page=1&page=2', 'page_size=5&page_size=5', 'operation=allowed&operation=blocked', 'since=2020-01-01&since=2021-01-01', 'until=2020-01-01&until=2020-01-01']) {
        const field = query.slice(0, query.indexOf('='));
        expectFieldError(await probe('GET', `/api/admin/logs?${query}`, { token: admin() }), 'query', field);
      }
    });

    it('impossible dates are refused: 422', async () => {
      for (const date of ['2023-02-29', '2024-02-30', '2024-04-31', '2024-00-10', '2024-01-00', '2024-01-01T24:61:00Z', '0000-00-00', '99999-01-01', '2024-1-1']) {
        expectFieldError(await probe('GET', `/api/admin/logs?since=${encodeURIComponent(date)}`, { token: admin() }), 'query', 'since');
      }
      expect((await probe('GET', '/api/admin/logs?since=2024-02-29', { token: admin() })).status).toBe(200);
    });

    it('huge numbers, odd encodings and unknown parameters do not break the logs query', async () => {
      for (const query of [
        'page=99999999999999999999999',
        'page=9007199254740991&page_size=100',
        'page_size=%31%30',
        'model=%00',
        `model=${encodeURIComponent("' OR 1=1 --")}`,
        `model=${'m'.repeat(5000)}`,
        'unknown=1&another[]=2',
        'page[]=1',
        'since[a]=b',
      ]) {
        const answer = await probe('GET', `/api/admin/logs?${query}`, { token: admin() });
        expect([200, 422], query).toContain(answer.status);
      }
      const injection = await probe('GET', `/api/admin/logs?model=${encodeURIComponent("' OR 1=1 --")}`, { token: admin() });
      expect(injection.body.total).toBe(0);
    });
  });

  it('is still healthy and deciding after all of the above', async () => {
    expect((await probe('GET', '/health')).body.status).toBe('ok');
    expect((await check(s.url, user, { contains_personal_data: true })).body).toMatchObject({ allowed: false, risk_score: 70 });
  });
});
