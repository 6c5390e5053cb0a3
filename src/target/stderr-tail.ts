/**
 * The last `limit` characters a child wrote to stderr, and waiters for a pattern in them. Bounded
 * so a chatty server under hours of load cannot grow its parent.
 */
export class StderrTail {
  private text = '';
  private readonly waiters = new Set<() => void>();

  constructor(private readonly limit = 64 * 1024) {}

  append(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit) this.text = this.text.slice(-this.limit);
    for (const check of [...this.waiters]) check();
  }

  toString(): string {
    return this.text;
  }

  /** The last `lines` non-empty lines on one line, for error messages. */
  summary(lines = 3): string {
    const text = this.text.trim();
    return text === '' ? '' : text.split('\n').slice(-lines).join(' | ');
  }

  /**
   * Resolves once the tail matches `pattern` (at once if it already does); rejects after
   * `timeoutMs`, or when `ended` settles first without a match.
   */
  waitFor(pattern: RegExp, timeoutMs: number, ended: Promise<unknown>, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (pattern.test(this.text)) done();
      };
      const timer = setTimeout(() => done(new Error(`${what}: stderr did not match ${pattern} within ${timeoutMs} ms:\n${this.text}`)), timeoutMs);
      this.waiters.add(check);
      void ended.then(() => {
        check();
        if (this.waiters.has(check)) done(new Error(`${what} exited before stderr matched ${pattern}:\n${this.text}`));
      });
      check();
    });
  }
}
