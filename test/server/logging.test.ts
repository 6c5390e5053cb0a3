import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { call, createKey } from '../helpers/http.js';
import { startTestServer } from '../helpers/server.js';

describe('server logs', () => {
  it('are JSON lines with no secret and no request body, even at trace level', async () => {
    const stream = new PassThrough();
    let logged = '';
    stream.on('data', (chunk: Buffer) => {
      logged += chunk.toString();
    });
    const server = await startTestServer({ logger: { level: 'trace', stream } });
    let token = '';
    try {
      token = await createKey(server.url, server.adminToken, 'logged-key');
      await call(server.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o', metadata: { marker: 'BODY-MARKER-1' } } });
      await call(server.url, 'POST', '/v1/check', { token, body: { model: 'm', operation: 'o', prompt: 'BODY-MARKER-2' } });
      await call(server.url, 'POST', '/v1/check', { token: `${token.split('.')[0]}.${'x'.repeat(43)}`, body: { model: 'm', operation: 'o' } });
      await call(server.url, 'GET', '/api/admin/keys', { token: server.adminToken });
    } finally {
      await server.close();
    }
    const lines = logged.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(logged).toContain('"route":"/v1/check"');
    for (const secret of [server.adminToken.split('.')[1]!, token.split('.')[1]!, 'BODY-MARKER-1', 'BODY-MARKER-2', 'x'.repeat(43)]) {
      expect(logged).not.toContain(secret);
    }
  });
});
