/**
 * An incremental HTTP/1.1 response parser for the load engine: one per connection, reused for
 * every response. It reads only what the engine needs (status, framing, Connection, whether
 * Retry-After is present) straight from the bytes, skips every other header without making a
 * string, and counts body bytes instead of keeping them unless the request asked for the body.
 * Bytes may arrive split at any boundary; the input buffer may be reused by the caller as soon as
 * `execute` returns (everything kept is copied).
 */

export const MAX_HEAD_BYTES = 64 * 1024;
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** `execute` results besides "complete at index i". */
export const NEED_MORE = -1;
export const PARSE_ERROR = -2;

// Parser states.
const HEAD = 0;
const BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_EXT = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILER_START = 6;
const TRAILER_LINE = 7;
const UNTIL_CLOSE = 8;
const DONE = 9;

const CR = 0x0d;
const LF = 0x0a;

// Header names that matter, lower case, as bytes; compared with `byte | 0x20`.
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');
const CONNECTION = Buffer.from('connection', 'latin1');
const RETRY_AFTER = Buffer.from('retry-after', 'latin1');
const CHUNKED = Buffer.from('chunked', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');

export class ResponseParser {
  /** The final response's status (1xx interim responses are skipped). */
  status = 0;
  retryAfter = false;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** The body when asked for and complete. */
  body: Buffer | undefined = undefined;
  /** Why the last `execute` returned PARSE_ERROR. */
  error = '';

  private state = HEAD;
  private wantBody = false;
  private noBody = false;
  private contentLength = -1;
  private chunked = false;
  /** A transfer-encoding other than chunked: the body runs to close (and overrides content-length). */
  private otherCoding = false;
  private closeHeader = false;
  private keepAliveHeader = false;
  private http10 = false;
  /** Body (or current chunk) bytes still to come. */
  private remaining = 0;
  private chunkSizeDigits = 0;
  private bodyBytes = 0;
  /** A body of known length is copied here; other bodies collect in `parts`. */
  private bodyBuf: Buffer | undefined = undefined;
  private parts: Buffer[] = [];
  /** A head split over reads is gathered here. */
  private headBuf: Buffer | undefined = undefined;
  private headLen = 0;
  /** 1 after LF, 2 after LF CR: finds the blank line that ends a head split over reads. */
  private lfRun = 0;

  /** Prepares for the response to a new request. `noBody`: a HEAD request (no body whatever the headers say). */
  reset(wantBody: boolean, noBody: boolean): void {
    this.state = HEAD;
    this.wantBody = wantBody;
    this.noBody = noBody;
    this.status = 0;
    this.retryAfter = false;
    this.keepAlive = true;
    this.body = undefined;
    this.bodyBuf = undefined;
    if (this.parts.length > 0) this.parts = [];
    this.bodyBytes = 0;
    this.headLen = 0;
    this.lfRun = 0;
    this.error = '';
  }

  /**
   * Consumes `buf[start, end)`. Returns the index just past the response when it completed (bytes
   * after it were not consumed), NEED_MORE when more bytes are needed, PARSE_ERROR (see `error`).
   */
  execute(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end || this.state === DONE) {
      switch (this.state) {
        case HEAD: {
          const next = this.head(buf, i, end);
          if (next < 0) return next;
          i = next;
          break;
        }
        case BODY: {
          const n = Math.min(this.remaining, end - i);
          if (this.bodyBuf !== undefined) buf.copy(this.bodyBuf, this.bodyBytes, i, i + n);
          this.bodyBytes += n;
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = DONE;
          break;
        }
        case CHUNK_SIZE: {
          const c = buf[i++]!;
          const digit = hexValue(c);
          if (digit >= 0) {
            if (++this.chunkSizeDigits > 12) return this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + digit;
          } else if (c === LF) {
            if (!this.endChunkSize()) return PARSE_ERROR;
          } else if (c === CR || c === 0x3b || c === 0x20 || c === 0x09) {
            this.state = CHUNK_EXT; // ";ext", whitespace or the CR before LF: skipped to the LF
          } else {
            return this.fail('invalid chunk size');
          }
          break;
        }
        case CHUNK_EXT: {
          const lf = buf.indexOf(LF, i);
          if (lf < 0 || lf >= end) return NEED_MORE;
          i = lf + 1;
          if (!this.endChunkSize()) return PARSE_ERROR;
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, end - i);
          if (this.wantBody && !this.keep(buf, i, n)) return PARSE_ERROR;
          this.bodyBytes += n;
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = CHUNK_DATA_END;
          break;
        }
        case CHUNK_DATA_END: {
          // CRLF after the chunk data (a bare LF is tolerated).
          const c = buf[i++]!;
          if (c === LF) this.startChunkSize();
          else if (c !== CR) return this.fail('missing CRLF after chunk data');
          break;
        }
        case TRAILER_START: {
          const c = buf[i++]!;
          if (c === LF) this.state = DONE;
          else if (c !== CR) this.state = TRAILER_LINE;
          break;
        }
        case TRAILER_LINE: {
          const lf = buf.indexOf(LF, i);
          if (lf < 0 || lf >= end) return NEED_MORE;
          i = lf + 1;
          this.state = TRAILER_START;
          break;
        }
        case UNTIL_CLOSE: {
          const n = end - i;
          if (this.wantBody && !this.keep(buf, i, n)) return PARSE_ERROR;
          this.bodyBytes += n;
          i = end;
          break;
        }
        case DONE: {
          this.finishBody();
          return i;
        }
      }
    }
    return NEED_MORE;
  }

  /** The peer closed the connection: true when that completes the response (a body delimited by close). */
  finishOnEof(): boolean {
    if (this.state !== UNTIL_CLOSE) return false;
    this.finishBody();
    this.state = DONE;
    return true;
  }

  /** Parses a head from `buf[i, end)`, gathering it across reads when split. Returns the index after it or < 0. */
  private head(buf: Buffer, i: number, end: number): number {
    if (this.headLen === 0) {
      // Fast path: the whole head is in this read.
      const next = this.parseHead(buf, i, end);
      if (next === PARSE_ERROR) return next;
      if (next - i > MAX_HEAD_BYTES) return this.fail(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      if (next !== NEED_MORE) return this.afterHead(next);
      this.lfRun = 0;
    }
    // Slow path: look for the blank line in the new bytes, remembering a partial match.
    let run = this.lfRun;
    let stop = -1;
    for (let j = i; j < end; j++) {
      const c = buf[j];
      if (c === LF) {
        if (run !== 0) {
          stop = j + 1;
          break;
        }
        run = 1;
      } else if (c === CR) {
        if (run === 1) run = 2;
      } else {
        run = 0;
      }
    }
    const take = (stop < 0 ? end : stop) - i;
    if (this.headLen + take > MAX_HEAD_BYTES) return this.fail(`response head larger than ${MAX_HEAD_BYTES} bytes`);
    this.appendHead(buf, i, take);
    if (stop < 0) {
      this.lfRun = run;
      return NEED_MORE;
    }
    const headBuf = this.headBuf!;
    const parsed = this.parseHead(headBuf, 0, this.headLen);
    this.headLen = 0;
    if (parsed === PARSE_ERROR) return parsed;
    if (parsed === NEED_MORE) return this.fail('malformed response head');
    return this.afterHead(stop);
  }

  private appendHead(buf: Buffer, i: number, n: number): void {
    const need = this.headLen + n;
    if (this.headBuf === undefined || this.headBuf.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_HEAD_BYTES, Math.max(need, 2 * (this.headBuf?.length ?? 512))));
      if (this.headBuf !== undefined) this.headBuf.copy(grown, 0, 0, this.headLen);
      this.headBuf = grown;
    }
    buf.copy(this.headBuf, this.headLen, i, i + n);
    this.headLen = need;
  }

  /**
   * Parses status line and headers in `buf[start, end)`. Returns the index after the blank line,
   * NEED_MORE when the head does not end within the range, or PARSE_ERROR.
   */
  private parseHead(buf: Buffer, start: number, end: number): number {
    // "HTTP/1.x SSS" at least, then the rest of the status line.
    if (end - start < 12) return this.partialStatusLine(buf, start, end);
    if (
      buf[start] !== 0x48 || buf[start + 1] !== 0x54 || buf[start + 2] !== 0x54 || buf[start + 3] !== 0x50 ||
      buf[start + 4] !== 0x2f || buf[start + 5] !== 0x31 || buf[start + 6] !== 0x2e || buf[start + 8] !== 0x20
    ) {
      return this.fail('not an HTTP/1.x response');
    }
    const minor = buf[start + 7]!;
    const s0 = buf[start + 9]! - 0x30;
    const s1 = buf[start + 10]! - 0x30;
    const s2 = buf[start + 11]! - 0x30;
    if (s0 < 1 || s0 > 9 || s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9) return this.fail('invalid status code');
    this.status = s0 * 100 + s1 * 10 + s2;
    this.http10 = minor === 0x30;
    this.contentLength = -1;
    this.chunked = false;
    this.otherCoding = false;
    this.closeHeader = false;
    this.keepAliveHeader = false;
    this.retryAfter = false;

    let i = start + 12;
    while (i < end && buf[i] !== LF) i++;
    if (i >= end) return NEED_MORE;
    i++;
    // Header lines until the blank line.
    for (;;) {
      if (i >= end) return NEED_MORE;
      let c = buf[i];
      if (c === LF) return i + 1;
      if (c === CR) {
        if (i + 1 >= end) return NEED_MORE;
        if (buf[i + 1] === LF) return i + 2;
        return this.fail('malformed header line');
      }
      if (c === 0x20 || c === 0x09) {
        // An obsolete folded continuation line: part of a header that does not matter here.
        const end1 = lineEnd(buf, i, end);
        if (end1 < 0) return NEED_MORE;
        i = end1 + 1;
        continue;
      }
      // The name runs to ':'; only four names matter.
      const nameStart = i;
      while (i < end && (c = buf[i]) !== 0x3a && c !== LF) i++;
      if (i >= end) return NEED_MORE;
      if (c === LF) return this.fail('header line without a colon');
      const nameEnd = i;
      i++;
      const lf = lineEnd(buf, i, end);
      if (lf < 0) return NEED_MORE;
      const which = nameEnd - nameStart;
      if (which === 14 || which === 17 || which === 10 || which === 11) {
        if (!this.header(buf, nameStart, nameEnd, i, lf)) return PARSE_ERROR;
      }
      i = lf + 1;
    }
  }

  /** Fewer than 12 bytes: need more unless they already cannot be a status line. */
  private partialStatusLine(buf: Buffer, start: number, end: number): number {
    const prefix = 'HTTP/1.';
    for (let j = 0; j < prefix.length && start + j < end; j++) {
      if (buf[start + j] !== prefix.charCodeAt(j)) return this.fail('not an HTTP/1.x response');
    }
    return NEED_MORE;
  }

  /** One header that may matter: name in [ns, ne), value in [vs, lf). Returns false on a bad value. */
  private header(buf: Buffer, ns: number, ne: number, vs: number, lf: number): boolean {
    // Trim optional whitespace and the CR.
    let ve = lf;
    if (ve > vs && buf[ve - 1] === CR) ve--;
    while (vs < ve && (buf[vs] === 0x20 || buf[vs] === 0x09)) vs++;
    while (ve > vs && (buf[ve - 1] === 0x20 || buf[ve - 1] === 0x09)) ve--;
    if (nameIs(buf, ns, ne, CONTENT_LENGTH)) {
      let n = 0;
      if (ve === vs || ve - vs > 15) return this.fail('invalid content-length') === 0;
      for (let j = vs; j < ve; j++) {
        const d = buf[j]! - 0x30;
        if (d < 0 || d > 9) return this.fail('invalid content-length') === 0;
        n = n * 10 + d;
      }
      if (this.contentLength >= 0 && this.contentLength !== n) return this.fail('conflicting content-length headers') === 0;
      this.contentLength = n;
    } else if (nameIs(buf, ns, ne, TRANSFER_ENCODING)) {
      // Chunked when it is the last coding; any other final coding means the body runs to close.
      this.chunked = ve - vs >= 7 && nameIs(buf, ve - 7, ve, CHUNKED);
      this.otherCoding = !this.chunked;
    } else if (nameIs(buf, ns, ne, CONNECTION)) {
      if (containsToken(buf, vs, ve, CLOSE)) this.closeHeader = true;
      if (containsToken(buf, vs, ve, KEEP_ALIVE)) this.keepAliveHeader = true;
    } else if (nameIs(buf, ns, ne, RETRY_AFTER)) {
      this.retryAfter = true;
    }
    return true;
  }

  /** Decides the body framing once the head is in; `i` is the first byte after the head. */
  private afterHead(i: number): number {
    const status = this.status;
    if (status < 200) {
      // 1xx interim responses (100 Continue, 103 Early Hints) precede the real one; 101 would switch protocols.
      if (status === 101) return this.fail('unexpected 101 Switching Protocols');
      this.headLen = 0;
      return i;
    }
    this.keepAlive = this.http10 ? this.keepAliveHeader && !this.closeHeader : !this.closeHeader;
    if (this.noBody || status === 204 || status === 304) {
      this.state = DONE;
    } else if (this.chunked) {
      this.startChunkSize();
    } else if (this.contentLength >= 0 && !this.otherCoding) {
      if (this.wantBody) {
        if (this.contentLength > MAX_BODY_BYTES) return this.fail(`response body larger than ${MAX_BODY_BYTES} bytes`);
        this.bodyBuf = Buffer.allocUnsafe(this.contentLength);
      }
      this.remaining = this.contentLength;
      this.state = this.contentLength === 0 ? DONE : BODY;
    } else {
      // No length: the body runs until the server closes the connection.
      this.keepAlive = false;
      this.state = UNTIL_CLOSE;
    }
    return i;
  }

  private startChunkSize(): void {
    this.state = CHUNK_SIZE;
    this.remaining = 0;
    this.chunkSizeDigits = 0;
  }

  private endChunkSize(): boolean {
    if (this.chunkSizeDigits === 0) return this.fail('missing chunk size') === 0;
    this.state = this.remaining === 0 ? TRAILER_START : CHUNK_DATA;
    return true;
  }

  /** Copies body bytes that are kept (the input buffer is not ours to hold). */
  private keep(buf: Buffer, i: number, n: number): boolean {
    if (n === 0) return true;
    if (this.bodyBytes + n > MAX_BODY_BYTES) return this.fail(`response body larger than ${MAX_BODY_BYTES} bytes`) === 0;
    this.parts.push(Buffer.from(buf.subarray(i, i + n)));
    return true;
  }

  private finishBody(): void {
    if (!this.wantBody) return;
    if (this.bodyBuf !== undefined) {
      this.body = this.bodyBuf;
      this.bodyBuf = undefined;
    } else {
      this.body = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bodyBytes);
      this.parts = [];
    }
  }

  private fail(message: string): number {
    this.error = message;
    return PARSE_ERROR;
  }
}

/** Index of the LF ending the line that starts at `i`, or -1. Header values are short: a loop beats a native call. */
function lineEnd(buf: Buffer, i: number, end: number): number {
  for (; i < end; i++) if (buf[i] === LF) return i;
  return -1;
}

/** Case-insensitive comparison of `buf[s, e)` with a lower-case name. */
function nameIs(buf: Buffer, s: number, e: number, name: Buffer): boolean {
  if (e - s !== name.length) return false;
  for (let j = 0; j < name.length; j++) if ((buf[s + j]! | 0x20) !== name[j]) return false;
  return true;
}

/** Whether a comma-separated list in `buf[s, e)` holds `token` (case-insensitive). */
function containsToken(buf: Buffer, s: number, e: number, token: Buffer): boolean {
  let i = s;
  while (i < e) {
    while (i < e && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x2c)) i++;
    let j = i;
    while (j < e && buf[j] !== 0x2c) j++;
    let k = j;
    while (k > i && (buf[k - 1] === 0x20 || buf[k - 1] === 0x09)) k--;
    if (nameIs(buf, i, k, token)) return true;
    i = j;
  }
  return false;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
