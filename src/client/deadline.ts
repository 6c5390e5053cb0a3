/**
 * The time one whole operation may take (connect, headers, body, retries): `--timeout` bounds
 * all of it, so a server that drips one byte at a time cannot hold govctl open. The signal also
 * follows the caller's (Ctrl-C).
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly endsAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ms: number,
    readonly outer?: AbortSignal,
  ) {
    this.endsAt = performance.now() + ms;
    // setTimeout fires at once past 2^31-1 ms; a longer timeout is as good as none.
    this.timer = setTimeout(() => this.controller.abort(new Error('deadline')), Math.min(ms, 2 ** 31 - 1));
    this.signal = outer ? AbortSignal.any([this.controller.signal, outer]) : this.controller.signal;
  }

  /** True when the time ran out (and not the caller's own abort). */
  get expired(): boolean {
    return this.controller.signal.aborted && !this.outer?.aborted;
  }

  get remainingMs(): number {
    return Math.max(0, this.endsAt - performance.now());
  }

  /** Stops the clock: the rest of the operation is not bounded by it (a download's body). */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** "2 s" or "1500 ms". */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
