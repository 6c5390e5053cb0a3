import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, NEED_MORE, PARSE_ERROR, ResponseParser } from '../../src/load/http/response-parser.js';

// The parser alone, fed real response bytes split at every possible boundary.

interface Parsed {
  status: number;
  retryAfter: boolean;
  keepAlive: boolean;
  body: string | undefined;
  /** Bytes consumed by the response. */
  used: number;
}

/** Feeds `text` in pieces of the given sizes (the last piece takes the rest); the buffer is scribbled over after each call. */
function feed(text: string, pieces: number[], options: { wantBody?: boolean; head?: boolean; eof?: boolean } = {}): Parsed | 'error' | 'incomplete' {
  const parser = new ResponseParser();
  parser.reset(options.wantBody ?? true, options.head ?? false);
  const bytes = Buffer.from(text, 'latin1');
  let offset = 0;
  const sizes = [...pieces, bytes.length];
  for (const size of sizes) {
    const end = Math.min(bytes.length, offset + size);
    // A fresh scratch buffer per read, overwritten afterwards: the parser must copy what it keeps.
    const scratch = Buffer.alloc(end - offset + 4, 0x2a);
    bytes.copy(scratch, 2, offset, end);
    const result = parser.execute(scratch, 2, 2 + end - offset);
    scratch.fill(0x23);
    if (result === PARSE_ERROR) return 'error';
    if (result >= 0) {
      return { status: parser.status, retryAfter: parser.retryAfter, keepAlive: parser.keepAlive, body: parser.body?.toString('latin1'), used: offset + result - 2 };
    }
    offset = end;
    if (offset >= bytes.length) break;
  }
  if (options.eof && parser.finishOnEof()) {
    return { status: parser.status, retryAfter: parser.retryAfter, keepAlive: parser.keepAlive, body: parser.body?.toString('latin1'), used: bytes.length };
  }
  return 'incomplete';
}

/** Every two-piece split and the one-byte-at-a-time feed give the same result as one piece. */
function expectSplitInvariant(text: string, options: { wantBody?: boolean; head?: boolean; eof?: boolean } = {}): Parsed | 'error' | 'incomplete' {
  const whole = feed(text, [], options);
  for (let cut = 1; cut < text.length; cut++) expect(feed(text, [cut], options), `split at ${cut}`).toEqual(whole);
  expect(feed(text, Array.from({ length: text.length }, () => 1), options)).toEqual(whole);
  return whole;
}

describe('ResponseParser', () => {
  it('parses a content-length response at every split', () => {
    const text = 'HTTP/1.1 200 OK\r\nDate: x\r\nContent-Type: application/json\r\nCONTENT-LENGTH:  11 \r\n\r\n{"ok":true}';
    expect(expectSplitInvariant(text)).toEqual({ status: 200, retryAfter: false, keepAlive: true, body: '{"ok":true}', used: text.length });
  });

  it('skips the body unless asked', () => {
    const text = 'HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-length: 3\r\n\r\nabc';
    expect(expectSplitInvariant(text, { wantBody: false })).toEqual({ status: 503, retryAfter: true, keepAlive: true, body: undefined, used: text.length });
  });

  it('parses chunked bodies with extensions and trailers at every split', () => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;a=b\r\nhello\r\n1\r\n \r\nf\r\n0123456789abcde\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n';
    expect(expectSplitInvariant(text)).toMatchObject({ status: 200, body: 'hello 0123456789abcde', used: text.length });
    expect(expectSplitInvariant(text, { wantBody: false })).toMatchObject({ body: undefined, used: text.length });
  });

  it('stops at the end of a response and leaves pipelined bytes', () => {
    const first = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
    const second = 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
    const parser = new ResponseParser();
    const buf = Buffer.from(first + second, 'latin1');
    parser.reset(true, false);
    const next = parser.execute(buf, 0, buf.length);
    expect(next).toBe(first.length);
    expect(parser.body?.toString()).toBe('hi');
    parser.reset(true, false);
    expect(parser.execute(buf, next, buf.length)).toBe(buf.length);
    expect(parser.status).toBe(404);
  });

  it('skips interim 1xx responses', () => {
    const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx';
    expect(expectSplitInvariant(text)).toMatchObject({ status: 201, body: 'x', used: text.length });
  });

  it('knows responses without a body', () => {
    const noContent = 'HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n';
    expect(feed(noContent, [])).toMatchObject({ status: 204, used: noContent.length });
    expect(feed('HTTP/1.1 304 Not Modified\r\n\r\n', [])).toMatchObject({ status: 304 });
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', [], { head: true })).toMatchObject({ status: 200, body: '' });
  });

  it('reads a body delimited by close, and Connection semantics', () => {
    const text = 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end';
    expect(feed(text, [20])).toBe('incomplete');
    expect(feed(text, [20], { eof: true })).toEqual({ status: 200, retryAfter: false, keepAlive: false, body: 'to the end', used: text.length });
    expect(feed('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n', [])).toMatchObject({ keepAlive: true });
    expect(feed('HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 0\r\n\r\n', [])).toMatchObject({ keepAlive: false });
    expect(feed('HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n', [])).toMatchObject({ keepAlive: true });
  });

  it('tolerates bare LF line ends and folded lines', () => {
    const text = 'HTTP/1.1 429 Too Many\nX-Long: a\n  continued\nRetry-After: 1\nContent-Length: 2\n\nok';
    expect(expectSplitInvariant(text)).toMatchObject({ status: 429, retryAfter: true, body: 'ok' });
  });

  it('a premature end does not complete a framed response', () => {
    const parser = new ResponseParser();
    parser.reset(false, false);
    const buf = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    expect(parser.execute(buf, 0, buf.length)).toBe(NEED_MORE);
    expect(parser.finishOnEof()).toBe(false);
  });

  it('rejects what is not a valid response', () => {
    for (const text of [
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/2 200\r\n\r\n',
      'HTTP/1.1 2x0 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    ]) {
      expect(expectSplitInvariant(text), text).toBe('error');
    }
  });

  it('bounds the head and the kept body', () => {
    const big = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
    expect(feed(big, [])).toBe('error');
    expect(feed(big, [1000, 1000, 1000])).toBe('error');
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n', [])).toBe('error');
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n', [], { wantBody: false })).toBe('incomplete');
  });

  it('is reusable after an error', () => {
    const parser = new ResponseParser();
    parser.reset(true, false);
    const bad = Buffer.from('garbage that is long\r\n\r\n');
    expect(parser.execute(bad, 0, bad.length)).toBe(PARSE_ERROR);
    parser.reset(true, false);
    const good = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz');
    expect(parser.execute(good, 0, good.length)).toBe(good.length);
    expect(parser.body?.toString()).toBe('z');
  });
});
