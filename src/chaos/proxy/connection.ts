import net, { type Socket } from 'node:net';
import { Link, type LinkToxics } from './link.js';

export interface ConnectionToxics {
  upstream: LinkToxics;
  downstream: LinkToxics;
  reset: boolean;
}

/**
 * One client connection and its upstream socket, joined by two links. Closes propagate both
 * ways: a FIN follows the data (slow_close delays the server's), an error or RST on one side
 * tears down the other (a RST from the server is passed on as a RST). While blackholed nothing
 * closes: a close waits until the blackhole is lifted.
 */
export class ProxyConnection {
  readonly upstream: Socket;
  private readonly up: Link;
  private readonly down: Link;
  private finished = false;
  /** Both sockets closed. */
  readonly closed: Promise<void>;
  /** The upstream failed while blackholed; passed on when the blackhole is lifted. */
  private heldUpstreamFailure = false;
  private closeTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly client: Socket,
    target: { host: string; port: number },
    private readonly toxics: () => ConnectionToxics,
    onClose: (conn: ProxyConnection) => void,
  ) {
    this.upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    client.setNoDelay(true);
    const resetOnChunk = (): boolean => {
      if (!this.toxics().reset) return true;
      this.reset();
      return false;
    };
    this.up = new Link(client, this.upstream, () => this.toxics().upstream, resetOnChunk);
    this.down = new Link(this.upstream, client, () => this.toxics().downstream, resetOnChunk);

    let clientError: NodeJS.ErrnoException | undefined;
    client.on('error', (err) => (clientError = err));
    // Its failure is reported through 'close' (hadError) below; the handler keeps it from throwing.
    this.upstream.on('error', () => {});

    // The client is gone: the server hears the same (a RST for a RST, else a close).
    client.on('close', () => {
      this.dispose();
      if (!this.upstream.destroyed) {
        if (clientError?.code === 'ECONNRESET' && this.upstream.readyState === 'open') this.upstream.resetAndDestroy();
        else this.upstream.destroy();
      }
      onClose(this);
    });
    // The server side failed (refused, reset, unreachable): the client sees a RST, after
    // slow_close's delay, never a clean FIN it could take for a complete response. A clean close
    // already travelled through the downstream link as a FIN.
    this.upstream.on('close', (hadError) => {
      if (hadError && !this.finished) this.failClient();
    });
    const closeOf = (socket: Socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
    this.closed = Promise.all([closeOf(client), closeOf(this.upstream)]).then(() => undefined);
  }

  private failClient(): void {
    const t = this.toxics();
    if (t.downstream.blackhole) {
      this.heldUpstreamFailure = true;
      return;
    }
    const go = (): void => {
      if (!this.client.destroyed) this.client.resetAndDestroy();
    };
    if (t.downstream.closeDelayMs > 0) this.closeTimer = setTimeout(go, t.downstream.closeDelayMs);
    else go();
  }

  /** The reset toxic: a real RST to the client (SO_LINGER 0), and the upstream dropped. */
  reset(): void {
    this.dispose();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.upstream.destroyed) this.upstream.destroy();
  }

  /** The toxics changed. */
  retoxify(): void {
    if (this.finished) return;
    if (this.toxics().reset) {
      this.reset();
      return;
    }
    this.up.retoxify();
    this.down.retoxify();
    if (this.heldUpstreamFailure && !this.toxics().downstream.blackhole) {
      this.heldUpstreamFailure = false;
      this.failClient();
    }
  }

  /** close(): both sockets destroyed at once. */
  destroy(): void {
    this.dispose();
    this.client.destroy();
    this.upstream.destroy();
  }

  private dispose(): void {
    this.finished = true;
    this.up.dispose();
    this.down.dispose();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
  }
}
