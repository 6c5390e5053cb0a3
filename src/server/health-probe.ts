/** What the probe needs of the store: one small real write, rejected when it cannot be made. */
export interface WriteProbeTarget {
  probeWrite(): Promise<void>;
}

export interface HealthProbeOptions {
  /** How long a probe's result answers /health before the next real write; default 1000 ms. */
  maxAgeMs?: number;
  /** A monotonic clock in ms (injectable for tests). */
  now?: () => number;
}

export interface ProbeResult {
  writable: boolean;
  /** Why the last probe failed (for logs only: never sent to a client). */
  error?: Error;
}

/**
 * /health's answer to "can the database be written now?": a real write, so a node whose disk
 * came back reports healthy again by itself, with no decision traffic needed. Results are reused
 * for `maxAgeMs` and concurrent callers share one probe, so a flood of /health requests costs
 * at most one write per interval.
 */
export class HealthProbe {
  private last: { at: number; result: ProbeResult } | undefined;
  private inFlight: Promise<ProbeResult> | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly target: WriteProbeTarget,
    options: HealthProbeOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  check(): Promise<ProbeResult> {
    if (this.last && this.now() - this.last.at < this.maxAgeMs) return Promise.resolve(this.last.result);
    this.inFlight ??= this.target.probeWrite().then(
      (): ProbeResult => ({ writable: true }),
      (err: unknown): ProbeResult => ({ writable: false, error: err instanceof Error ? err : new Error(String(err)) }),
    ).then((result) => {
      this.last = { at: this.now(), result };
      this.inFlight = undefined;
      return result;
    });
    return this.inFlight;
  }
}
