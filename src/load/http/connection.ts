import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls, { type TLSSocket } from 'node:tls';
import type { ErrorClass, HttpConnection, HttpTargetOptions, RawResponse, ResponseCallback } from '../types.js';
import { describeTlsFailure } from '../../client/tls-errors.js';
import { isHeadRequest } from './request-bytes.js';
import { NEED_MORE, PARSE_ERROR, ResponseParser } from './response-parser.js';

/**
 * The load engine's request path: one keep-alive HTTP/1.1 connection over node:net (or node:tls)
 * carrying one pre-serialised request at a time. No streams of our own, no per-request timers,
 * no string work: plain-TCP reads land in one shared scratch buffer (`onread`) and go straight
 * to the connection's reusable parser.
 *
 * - Connects on the first request (its `sentAt` then includes the connect), reuses the socket
 *   while the server keeps it alive, reconnects after `Connection: close`, a close-delimited
 *   body, an idle close by the server, an error or a timeout.
 * - A request written onto a reused socket that then closes before a single response byte
 *   arrived (the keep-alive race) is sent once more on a fresh socket; `sentAt` is kept.
 * - Errors: ECONNREFUSED -> 'refused'; ECONNRESET, EPIPE, ECONNABORTED or a close in the middle
 *   of a response -> 'reset'; no complete response within `timeoutMs` (connect included) or
 *   ETIMEDOUT -> 'timeout' (the socket is destroyed); TLS, parse and anything else -> 'other'.
 * - The callback runs exactly once per request, never synchronously inside `request()`, never
 *   after `close()`. It may send the next request at once.
 */

export interface LeanHttpConnection extends HttpConnection {
  /** The last transport or protocol error, for a report's reason (never holds request data). */
  readonly lastError: string | undefined;
  /** TCP (or TLS) connections opened so far: reconnects show as more than one. */
  readonly connects: number;
}

// One scratch buffer for every plain-TCP read in this thread: `onread` callbacks run one at a
// time and the parser copies whatever it keeps, so nothing holds on to it between reads.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** setTimeout's largest delay; a longer timeout is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createConnection(options: HttpTargetOptions): LeanHttpConnection {
  return new Connection(options);
}

class Connection implements LeanHttpConnection {
  lastError: string | undefined = undefined;
  connects = 0;

  private readonly secure: boolean;
  private readonly host: string;
  /** host:port as the URL gives it, for error lines. */
  private readonly display: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly tlsOptions: tls.ConnectionOptions | undefined;
  private tlsSession: Buffer | undefined = undefined;

  private socket: Socket | null = null;
  /** The socket carried a complete response before: a close with no answer may be a keep-alive race. */
  private reused = false;
  private closed = false;
  private readonly parser = new ResponseParser();

  // The outstanding request.
  private callback: ResponseCallback | null = null;
  private bytes: Buffer | null = null;
  private sentAt = 0;
  private deadline = 0;
  private received = 0;
  private retried = false;

  /**
   * One timer per connection, re-armed lazily: it fires at most once per timeout period. Unref'd:
   * an outstanding request's socket keeps the process alive anyway.
   */
  private timer: NodeJS.Timeout | null = null;

  constructor(options: HttpTargetOptions) {
    const { url } = options;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
    if (!(options.timeoutMs > 0)) throw new TypeError('timeoutMs must be positive');
    this.secure = url.protocol === 'https:';
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port === '' ? (this.secure ? 443 : 80) : Number(url.port);
    this.display = url.host;
    this.timeoutMs = options.timeoutMs;
    this.tlsOptions = this.secure
      ? {
          host: this.host,
          port: this.port,
          rejectUnauthorized: options.rejectUnauthorized !== false,
          ALPNProtocols: ['http/1.1'],
          ...(net.isIP(this.host) === 0 ? { servername: this.host } : {}),
          ...(options.ca !== undefined ? { ca: options.ca } : {}),
        }
      : undefined;
  }

  get busy(): boolean {
    return this.callback !== null;
  }

  request(bytes: Buffer, wantBody: boolean, callback: ResponseCallback): void {
    if (this.closed) throw new Error('request on a closed connection');
    if (this.callback !== null) throw new Error('request on a busy connection');
    this.callback = callback;
    this.bytes = bytes;
    this.retried = false;
    this.received = 0;
    this.parser.reset(wantBody, isHeadRequest(bytes));
    this.sentAt = performance.now();
    this.deadline = this.sentAt + this.timeoutMs;
    if (this.timer === null) this.timer = setTimeout(this.onTimer, Math.min(this.timeoutMs, MAX_TIMER_MS)).unref();
    this.send(bytes);
  }

  close(): void {
    this.closed = true;
    this.callback = null;
    this.bytes = null;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.dropSocket();
  }

  private send(bytes: Buffer): void {
    const socket = this.socket ?? this.open();
    socket.write(bytes);
  }

  private open(): Socket {
    this.connects++;
    this.reused = false;
    let socket: Socket;
    if (this.tlsOptions !== undefined) {
      const tlsSocket: TLSSocket = tls.connect(this.tlsSession === undefined ? this.tlsOptions : { ...this.tlsOptions, session: this.tlsSession });
      tlsSocket.setNoDelay(true);
      tlsSocket.on('session', (session: Buffer) => {
        this.tlsSession = session;
      });
      tlsSocket.on('data', (chunk: Buffer) => this.onBytes(tlsSocket, chunk, chunk.length));
      socket = tlsSocket;
    } else {
      socket = net.connect({
        host: this.host,
        port: this.port,
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (n: number, buf: Uint8Array): boolean => {
            this.onBytes(socket, buf as Buffer, n);
            return true; // false would pause reading
          },
        },
      });
    }
    socket.on('error', (err: NodeJS.ErrnoException) => this.onGone(socket, err));
    socket.on('end', () => this.onGone(socket, undefined));
    socket.on('close', () => this.onGone(socket, undefined));
    this.socket = socket;
    return socket;
  }

  private onBytes(socket: Socket, buf: Buffer, end: number): void {
    if (socket !== this.socket) return;
    if (this.callback === null) {
      // Bytes nobody asked for: the connection is out of step, start afresh next time.
      this.lastError = 'unsolicited bytes from the server';
      this.dropSocket();
      return;
    }
    this.received += end;
    const parser = this.parser;
    const next = parser.execute(buf, 0, end);
    if (next === NEED_MORE) return;
    if (next === PARSE_ERROR) {
      this.lastError = parser.error;
      this.dropSocket();
      this.finish('other', undefined);
      return;
    }
    // Bytes after the response (we never pipeline) or a server that will close: no reuse.
    if (next < end || !parser.keepAlive) this.dropSocket();
    else this.reused = true;
    // One object shape for every response (body undefined unless asked for), kind to V8.
    this.finish(undefined, { status: parser.status, retryAfter: parser.retryAfter, body: parser.body });
  }

  /** The socket ended, closed or failed. Only the first report of the current socket counts. */
  private onGone(socket: Socket, err: NodeJS.ErrnoException | undefined): void {
    if (socket !== this.socket) return;
    // TLS failures in plain words, never OpenSSL's internal strings (they reach chaos/load reports).
    if (err !== undefined) this.lastError = (this.secure ? describeTlsFailure(err, this.display) : undefined) ?? err.message;
    this.dropSocket();
    if (this.callback === null) return; // idle close: the next request reconnects
    const parser = this.parser;
    if (err === undefined && parser.finishOnEof()) {
      this.finish(undefined, { status: parser.status, retryAfter: parser.retryAfter, body: parser.body });
      return;
    }
    if (this.received === 0 && this.reused && !this.retried && this.bytes !== null) {
      // Written onto a keep-alive socket the server had just closed, and nothing came back:
      // send it once more on a fresh socket (as browsers do). sentAt stays: the time counts.
      this.retried = true;
      this.send(this.bytes);
      return;
    }
    this.finish(err === undefined ? 'reset' : classify(err), undefined);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.callback === null) return; // idle: re-armed by the next request
    const left = this.deadline - performance.now();
    if (left > 0.5) {
      this.timer = setTimeout(this.onTimer, Math.min(Math.ceil(left), MAX_TIMER_MS)).unref();
      return;
    }
    this.lastError = `no complete response within ${this.timeoutMs} ms`;
    this.dropSocket();
    this.finish('timeout', undefined);
  };

  private dropSocket(): void {
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    socket.destroy();
  }

  /** Clears the request before calling back: the callback may send the next one at once. */
  private finish(error: ErrorClass | undefined, response: RawResponse | undefined): void {
    const callback = this.callback!;
    this.callback = null;
    this.bytes = null;
    callback(error, response, this.sentAt);
  }
}

function classify(err: NodeJS.ErrnoException): ErrorClass {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'other';
  }
}
