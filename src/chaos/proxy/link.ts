import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** What the toxics mean for one direction of one connection, read afresh at every chunk. */
export interface LinkToxics {
  blackhole: boolean;
  latencyMs: number;
  jitterMs: number;
  /** 0 = unlimited. */
  bytesPerSecond: number;
  /** Delay before the end of the stream reaches the destination (slow_close, downstream only). */
  closeDelayMs: number;
}

/** Bandwidth is paced in slices of this much time: smooth enough, and few timers. */
const SLICE_S = 0.05;
/** Queued bytes above which the source is paused (latency and bandwidth hold data). */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

interface Queued {
  chunk: Buffer;
  /** performance.now() before which the chunk may not leave (arrival + latency). */
  at: number;
}

/**
 * One direction of a proxied connection: source socket -> destination socket. With no toxic and
 * nothing queued a chunk is written straight through (the no-toxic cost is one write); otherwise
 * chunks wait in an ordered queue for their latency and the bandwidth budget, with one timer.
 * The end of the stream (FIN) follows the last queued byte.
 */
export class Link {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private lastAt = 0;
  private bandwidthNext = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingDrain = false;
  private pausedSource = false;
  private sourceEnded = false;
  private endScheduled = false;
  private disposed = false;

  constructor(
    private readonly source: Socket,
    private readonly dest: Socket,
    private readonly toxics: () => LinkToxics,
    /** A chunk arrived: the connection may turn it into a reset (the reset toxic). */
    private readonly onChunk: () => boolean,
  ) {
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    dest.on('drain', this.onDrain);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.disposed || !this.onChunk()) return;
    const t = this.toxics();
    if (t.blackhole) return;
    if (this.queue.length === 0 && !this.waitingDrain && t.latencyMs === 0 && t.jitterMs === 0 && t.bytesPerSecond === 0) {
      if (!this.dest.write(chunk)) this.blockOnDrain();
      return;
    }
    const now = performance.now();
    const delay = t.latencyMs + (t.jitterMs > 0 ? (Math.random() * 2 - 1) * t.jitterMs : 0);
    // Jitter may not reorder bytes: a chunk never leaves before the one ahead of it.
    const at = Math.max(now + Math.max(0, delay), this.lastAt);
    this.lastAt = at;
    this.queue.push({ chunk, at });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER) this.pauseSource();
    if (this.timer === null) this.pump();
  };

  private readonly onEnd = (): void => {
    this.sourceEnded = true;
    if (this.queue.length === 0) this.maybeEnd();
  };

  private readonly onDrain = (): void => {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    if (this.queue.length === 0) this.resumeSource();
    else this.pump();
  };

  private blockOnDrain(): void {
    this.waitingDrain = true;
    this.pauseSource();
  }

  private pauseSource(): void {
    if (this.pausedSource) return;
    this.pausedSource = true;
    this.source.pause();
  }

  private resumeSource(): void {
    if (!this.pausedSource || this.waitingDrain || this.queuedBytes > LOW_WATER) return;
    this.pausedSource = false;
    this.source.resume();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.pump, Math.max(0, ms));
  }

  private readonly pump = (): void => {
    this.timer = null;
    if (this.disposed || this.waitingDrain) return;
    const t = this.toxics();
    if (t.blackhole) {
      this.drop();
      return;
    }
    while (this.queue.length > 0) {
      const now = performance.now();
      const head = this.queue[0]!;
      if (head.at > now) return this.arm(head.at - now);
      let chunk = head.chunk;
      if (t.bytesPerSecond > 0) {
        if (this.bandwidthNext > now) return this.arm(this.bandwidthNext - now);
        const slice = Math.max(1, Math.floor(t.bytesPerSecond * SLICE_S));
        if (chunk.length > slice) {
          head.chunk = chunk.subarray(slice);
          chunk = chunk.subarray(0, slice);
        } else {
          this.queue.shift();
        }
        // A timer that fired a little late does not cost the stream its rate; a long idle
        // period does not build up a burst either.
        const base = now - this.bandwidthNext < SLICE_S * 1000 ? this.bandwidthNext : now;
        this.bandwidthNext = base + (chunk.length / t.bytesPerSecond) * 1000;
      } else {
        this.queue.shift();
      }
      this.queuedBytes -= chunk.length;
      if (!this.dest.write(chunk)) {
        this.blockOnDrain();
        return;
      }
    }
    this.resumeSource();
    if (this.sourceEnded) this.maybeEnd();
  };

  private drop(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.resumeSource();
  }

  /** Forwards the end of the stream, after slow_close's delay; held while blackholed. */
  private maybeEnd(): void {
    if (this.endScheduled || this.disposed) return;
    const t = this.toxics();
    if (t.blackhole) return;
    this.endScheduled = true;
    if (t.closeDelayMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.disposed) this.dest.end();
      }, t.closeDelayMs);
    } else {
      this.dest.end();
    }
  }

  /** The toxics changed: lifted latency releases what waits, a blackhole drops it, a held end goes. */
  retoxify(): void {
    if (this.disposed || this.endScheduled) return;
    const t = this.toxics();
    if (t.blackhole) {
      this.drop();
      return;
    }
    if (t.latencyMs === 0 && t.jitterMs === 0) {
      for (const queued of this.queue) queued.at = 0;
      this.lastAt = 0;
    }
    if (t.bytesPerSecond === 0) this.bandwidthNext = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.pump();
  }

  /** Bytes accepted from the source and not yet written on. */
  get pending(): number {
    return this.queuedBytes;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
