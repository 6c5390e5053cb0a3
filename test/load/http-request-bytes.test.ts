import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { govctlVersion } from '../../src/core/version.js';
import { isHeadRequest, serializeRequest, type RequestSpec } from '../../src/load/http/request-bytes.js';

describe('serializeRequest', () => {
  it('writes a keep-alive GET without a body', () => {
    const bytes = serializeRequest({ method: 'GET', path: '/health', host: '127.0.0.1:8080', headers: {} });
    expect(bytes.toString('latin1')).toBe(
      `GET /health HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nuser-agent: govctl/${govctlVersion()}\r\nconnection: keep-alive\r\n\r\n`,
    );
  });

  it('writes a JSON body with its byte length and the given headers', () => {
    const body = JSON.stringify({ model: 'gpt-4', operation: 'chat', metadata: { note: 'héllo' } });
    const bytes = serializeRequest({
      method: 'POST',
      path: '/v1/check?x=1',
      host: 'example.test',
      headers: { authorization: 'Bearer abc.def', 'X-Trace': 'one' },
      body,
    });
    const text = bytes.toString('utf8');
    const [head, sent] = text.split('\r\n\r\n') as [string, string];
    expect(sent).toBe(body);
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('POST /v1/check?x=1 HTTP/1.1');
    expect(lines).toContain('content-type: application/json');
    expect(lines).toContain(`content-length: ${Buffer.byteLength(body)}`);
    expect(lines).toContain('authorization: Bearer abc.def');
    expect(lines).toContain('X-Trace: one');
    expect(lines).toContain('connection: keep-alive');
  });

  it('lets headers override content-type, user-agent and host', () => {
    const text = serializeRequest({
      method: 'POST',
      path: '/',
      host: 'a',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': 'x', Host: 'b' },
      body: 'hi',
    }).toString('latin1');
    expect(text).toContain('\r\nhost: b\r\n');
    expect(text).toContain('\r\nContent-Type: text/plain\r\n');
    expect(text).toContain('\r\nUser-Agent: x\r\n');
    expect(text).not.toContain('govctl/');
    expect(text).not.toContain('application/json');
  });

  it('rejects CR, LF and controls in paths and header values, and framing headers', () => {
    const base: RequestSpec = { method: 'GET', path: '/', host: 'h', headers: {} };
    const bad: RequestSpec[] = [
      { ...base, path: '/a\r\nX-Injected: 1' },
      { ...base, path: '/a b' },
      { ...base, path: 'relative' },
      { ...base, method: 'GE T' },
      { ...base, headers: { authorization: 'Bearer x\r\nX-Injected: 1' } },
      { ...base, headers: { 'bad name': 'x' } },
      { ...base, headers: { 'content-length': '5' } },
      { ...base, headers: { Connection: 'close' } },
      { ...base, host: 'h\nx' },
    ];
    for (const spec of bad) expect(() => serializeRequest(spec), JSON.stringify(spec)).toThrow(InvalidInputError);
  });

  it('does not echo a header value in its error (it may be a key)', () => {
    expect(() => serializeRequest({ method: 'GET', path: '/', host: 'h', headers: { authorization: 'Bearer secret\n' } })).toThrow(
      /^(?!.*secret).*authorization/,
    );
  });

  it('recognises HEAD requests', () => {
    expect(isHeadRequest(serializeRequest({ method: 'HEAD', path: '/', host: 'h', headers: {} }))).toBe(true);
    expect(isHeadRequest(serializeRequest({ method: 'HEADX', path: '/', host: 'h', headers: {} }))).toBe(false);
    expect(isHeadRequest(serializeRequest({ method: 'GET', path: '/', host: 'h', headers: {} }))).toBe(false);
  });
});
