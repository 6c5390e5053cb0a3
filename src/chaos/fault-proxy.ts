import net, { type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { OperationFailedError, messageOf } from '../core/errors.js';
import { ProxyConnection, type ConnectionToxics } from './proxy/connection.js';
import type { LinkToxics } from './proxy/link.js';
import { assertValidToxic, type Toxic } from './proxy/toxics.js';

export { formatToxic, parseToxic, TOXIC_FORMS, type Toxic, type ToxicDirection, type ToxicType } from './proxy/toxics.js';

export interface FaultProxyOptions {
  /** Default 127.0.0.1. */
  listenHost?: string;
  /** Default 0: an ephemeral port. */
  listenPort?: number;
  upstream: { host: string; port: number };
  /** Aborting closes the proxy (as close() does). */
  signal?: AbortSignal;
}

export interface FaultProxy {
  /** http://host:port of the listener (the proxy is plain TCP; the URL is for HTTP clients). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly upstream: { host: string; port: number };
  /** The toxics in force. */
  readonly toxics: readonly Toxic[];
  /** Replaces the toxics; they apply to open connections as well as new ones. */
  setToxics(toxics: Toxic[]): void;
  clearToxics(): void;
  /** Resolves once the listener matches the toxics (listening again after a refuse was lifted). */
  settled(): Promise<void>;
  /** Open client connections. */
  connections(): number;
  /** Closes the listener and destroys every open connection; resolves when all sockets are closed. Idempotent. */
  close(): Promise<void>;
}

const NO_TOXICS: LinkToxics = { blackhole: false, latencyMs: 0, jitterMs: 0, bytesPerSecond: 0, closeDelayMs: 0 };
/** Tries to take the port back after a refuse before giving up (another socket may hold it briefly). */
const RELISTEN_ATTEMPTS = 20;
const RELISTEN_PAUSE_MS = 50;

function applies(direction: 'upstream' | 'downstream' | 'both' | undefined, fallback: 'downstream' | 'both', link: 'upstream' | 'downstream'): boolean {
  const d = direction ?? fallback;
  return d === 'both' || d === link;
}

/** What the toxic list means for each link; later toxics of a type override earlier ones. */
function compileToxics(toxics: readonly Toxic[]): ConnectionToxics & { refuse: boolean } {
  const upstream = { ...NO_TOXICS };
  const downstream = { ...NO_TOXICS };
  let reset = false;
  let refuse = false;
  for (const toxic of toxics) {
    switch (toxic.type) {
      case 'latency':
        for (const [name, link] of [['upstream', upstream], ['downstream', downstream]] as const) {
          if (!applies(toxic.direction, 'downstream', name)) continue;
          link.latencyMs = toxic.latency_ms;
          link.jitterMs = toxic.jitter_ms ?? 0;
        }
        break;
      case 'bandwidth':
        for (const [name, link] of [['upstream', upstream], ['downstream', downstream]] as const) {
          if (applies(toxic.direction, 'both', name)) link.bytesPerSecond = (toxic.rate_kbps * 1000) / 8;
        }
        break;
      case 'blackhole':
        upstream.blackhole = downstream.blackhole = true;
        break;
      case 'slow_close':
        downstream.closeDelayMs = toxic.delay_ms;
        break;
      case 'reset':
        reset = true;
        break;
      case 'refuse':
        refuse = true;
        break;
    }
  }
  return { upstream, downstream, reset, refuse };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      // A failed accept (EMFILE) fails that one client; it must not take the process down.
      server.on('error', () => {});
      resolve();
    });
  });
}

/**
 * A TCP proxy on loopback (by default) in front of `upstream`, with toxiproxy-like toxics that
 * apply to open connections as well as new ones.
 *
 * `refuse` closes the listening socket, so new clients get a real ECONNREFUSED (what a server
 * that is down gives) while open connections carry on; lifting it listens again on the same
 * port. The port is free in between: should another socket take it, the proxy retries for about
 * a second and then settled() rejects. `reset` sends a RST to every open connection at once, and
 * to each new one on its first byte, so clients see ECONNRESET on a request rather than a silent
 * close.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const listenHost = options.listenHost ?? '127.0.0.1';
  const upstream = { host: options.upstream.host, port: options.upstream.port };
  const open = new Set<ProxyConnection>();
  const servers = new Set<Server>();
  let current: Toxic[] = [];
  let compiled = compileToxics(current);
  let server: Server | null = null;
  let listenOp: Promise<void> = Promise.resolve();
  let closing: Promise<void> | null = null;
  let port = options.listenPort ?? 0;

  const onConnection = (client: net.Socket): void => {
    if (closing) {
      client.destroy();
      return;
    }
    const conn = new ProxyConnection(client, upstream, () => compiled, (c) => open.delete(c));
    open.add(conn);
  };
  const newServer = (): Server => {
    const s = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
    servers.add(s);
    s.on('close', () => servers.delete(s));
    return s;
  };

  server = newServer();
  await listen(server, port, listenHost);
  port = (server.address() as net.AddressInfo).port;

  const relisten = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (closing || compiled.refuse || server) return;
      const s = newServer();
      try {
        await listen(s, port, listenHost);
        if (closing || compiled.refuse) s.close();
        else server = s;
        return;
      } catch (err) {
        s.close();
        if (attempt >= RELISTEN_ATTEMPTS) {
          throw new OperationFailedError(`the fault proxy could not listen on ${listenHost}:${port} again after refusing connections: ${messageOf(err)}`);
        }
        await sleep(RELISTEN_PAUSE_MS);
      }
    }
  };

  const apply = (toxics: Toxic[]): void => {
    if (closing) return;
    toxics.forEach(assertValidToxic);
    current = [...toxics];
    compiled = compileToxics(current);
    if (compiled.refuse && server) {
      // The listening socket closes now (its callback waits for connections we keep open).
      server.close();
      server = null;
    } else if (!compiled.refuse && !server) {
      listenOp = listenOp.catch(() => undefined).then(relisten);
      listenOp.catch(() => undefined); // surfaced through settled()
    }
    for (const conn of [...open]) conn.retoxify();
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      await listenOp.catch(() => undefined);
      const closed = [...open].map((c) => c.closed);
      for (const conn of open) conn.destroy();
      const listeners = [...servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      server = null;
      await Promise.all([...closed, ...listeners]);
    })();
    return closing;
  };
  const onAbort = (): void => void close();
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const host = listenHost;
  const urlHost = net.isIPv6(host) ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    upstream,
    get toxics() {
      return current;
    },
    setToxics: apply,
    clearToxics: () => apply([]),
    settled: () => listenOp,
    connections: () => open.size,
    close,
  };
}
