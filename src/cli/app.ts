import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import type { ResolvedConnection } from '../config/resolve.js';
import { redactCredentials } from '../core/url-credentials.js';
import { UsageError } from '../core/errors.js';
import type { GovernanceClient } from '../client/governance-client.js';
import type { HttpTrace } from '../client/http.js';
import type { Target } from '../target/resolve.js';
import type { CliIO } from './io.js';
import { renderJson, type OutputFormat } from './render/json.js';
import { makeStyle, useColor } from './render/style.js';
import { visibleLines } from './render/visible.js';

/** How long cleanups (stopping an embedded server, closing clients) may hold the exit. */
export const CLEANUP_BUDGET_MS = 2_000;

/**
 * Text for a warning, note or error line: credentials in URLs redacted, control characters
 * (a server's or tenant's ESC sequences) shown, never interpreted.
 */
export function printable(text: string): string {
  return visibleLines(redactCredentials(text));
}

/** The options every command shares (declared on the program in main.ts). */
export interface GlobalOptions {
  url?: string;
  adminKey?: string;
  context?: string;
  /** Use a temporary embedded server on purpose (admin commands need a configured one otherwise). */
  embedded: boolean;
  timeout: string;
  caCert?: string;
  insecure: boolean;
  output: OutputFormat;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * One invocation of govctl as commands see it: the terminal, the global options, the
 * connection, and the cleanups to run at the end (also after Ctrl-C).
 */
export class CliApp {
  private readonly cleanups: Array<() => Promise<void>> = [];
  private warnedAboutKeyFlag = false;
  private readonly warned = new Set<string>();

  constructor(
    readonly io: CliIO,
    readonly signal: AbortSignal,
    private readonly program: Command,
  ) {}

  get globals(): GlobalOptions {
    const opts = this.program.opts<Partial<GlobalOptions>>();
    const output = opts.output ?? 'table';
    if (output !== 'table' && output !== 'wide' && output !== 'json' && output !== 'sarif') {
      throw new UsageError(`invalid --output "${String(output)}": use table, wide, json or sarif`);
    }
    return {
      ...(opts.url !== undefined ? { url: opts.url } : {}),
      ...(opts.adminKey !== undefined ? { adminKey: opts.adminKey } : {}),
      ...(opts.context !== undefined ? { context: opts.context } : {}),
      embedded: opts.embedded === true,
      timeout: opts.timeout ?? '10s',
      ...(opts.caCert !== undefined ? { caCert: opts.caCert } : {}),
      insecure: opts.insecure === true,
      output,
      color: opts.color !== false,
      quiet: opts.quiet === true,
      verbose: opts.verbose === true,
    };
  }

  get style(): ChalkInstance {
    return makeStyle(useColor(this.io.stdoutIsTTY, this.io.env, this.globals.color));
  }

  get json(): boolean {
    return this.globals.output === 'json';
  }

  /**
   * The width tables are cut to (with `…`): the terminal's, for `-o table` on a TTY of known
   * width; undefined (never cut) for `-o wide`, pipes and files.
   * Tables pass it on: renderTable(head, rows, app.style, { width: app.tableWidth }).
   */
  get tableWidth(): number | undefined {
    const columns = this.io.columns;
    if (this.globals.output !== 'table' || !this.io.stdoutIsTTY || columns === undefined || columns <= 0) return undefined;
    return columns;
  }

  /** A result on stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(renderJson(value));
  }

  /**
   * JSON of an admin command: which context and server it used, then its result. A list comes
   * wrapped under `listName` ({"context", "url", "keys": [...]}), as servers in the field wrap theirs.
   */
  printAdminJson(url: string, value: object, listName = 'items'): void {
    const body = Array.isArray(value) ? { [listName]: value } : value;
    this.printJson({ context: this.contextName ?? null, url, ...body });
  }

  /** The context the connection came from, once connection() ran (undefined: flags or environment only). */
  contextName: string | undefined;

  /** Progress and notes on stderr, silenced by --quiet. */
  info(text: string): void {
    if (!this.globals.quiet) this.io.stderr.write(`${printable(text)}\n`);
  }

  /** Warnings on stderr; --quiet does not hide them. */
  warn(text: string): void {
    this.io.stderr.write(`${makeStyle(useColor(false, this.io.env, this.globals.color)).yellow('warning:')} ${printable(text)}\n`);
  }

  /** A warning shown once per invocation however often its cause is met. */
  private warnOnce(text: string): void {
    if (this.warned.has(text)) return;
    this.warned.add(text);
    this.warn(text);
  }

  onCleanup(task: () => Promise<void>): void {
    this.cleanups.push(task);
  }

  /**
   * Runs the cleanups, newest first, within `budgetMs` in all: each is started even when the
   * budget is spent (a stop signal is still sent), but none may hold the exit past it.
   * Resolves false when some did not finish in time.
   */
  async runCleanups(budgetMs = CLEANUP_BUDGET_MS): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    let finished = true;
    // After Ctrl-C the one line "interrupted" is the whole story, unless --verbose.
    const quietFailures = this.signal.aborted && !this.globals.verbose;
    while (this.cleanups.length > 0) {
      const task = this.cleanups.pop()!;
      const done = Promise.resolve()
        .then(task)
        .then(
          () => true,
          (err: unknown) => {
            if (!quietFailures) this.warn(`cleanup failed: ${(err as Error).message}`);
            return true;
          },
        );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      });
      const inTime = await Promise.race([done, late]);
      clearTimeout(timer);
      if (!inTime) finished = false;
    }
    if (!finished && !quietFailures) this.warn(`cleanup did not finish within ${budgetMs} ms; exiting anyway`);
    return finished;
  }

  /** `overrides.url`: a command's own server argument (audit --api URL), taking --url's place. */
  async connection(overrides: { url?: string } = {}): Promise<ResolvedConnection> {
    const g = { ...this.globals, ...(overrides.url !== undefined ? { url: overrides.url } : {}) };
    if (g.adminKey !== undefined && !this.warnedAboutKeyFlag) {
      this.warnedAboutKeyFlag = true;
      this.warn('--admin-key puts the key in your shell history and process list; prefer GOVCTL_ADMIN_KEY or a context');
    }
    // Imported here so that commands which never connect (--version, --help) do not load them.
    const { configPath, loadConfig } = await import('../config/contexts.js');
    const { resolveConnection } = await import('../config/resolve.js');
    if (g.embedded) {
      // Asked for on purpose: no configured server or key is used, so none can be mixed in.
      if (g.url !== undefined || g.context !== undefined) {
        throw new UsageError(`--embedded runs a temporary server; it cannot be combined with ${g.url !== undefined ? '--url' : '--context'}`);
      }
      return { sources: { url: 'none', adminKey: 'none' } };
    }
    const config = await loadConfig(configPath(this.io.env));
    const connection = await resolveConnection(
      {
        ...(g.url !== undefined ? { url: g.url } : {}),
        ...(g.adminKey !== undefined ? { adminKey: g.adminKey } : {}),
        ...(g.context !== undefined ? { context: g.context } : {}),
      },
      this.io.env,
      config,
    );
    this.contextName = connection.contextName;
    const withheld = connection.withheldKey;
    if (withheld) {
      const { withoutCredentials } = await import('../core/url-credentials.js');
      const dropUrl = withheld.urlSource === 'flag' ? 'drop --url' : 'unset GOVCTL_URL';
      this.warnOnce(
        `not sending context "${withheld.context}"'s admin key to ${withoutCredentials(withheld.url)} ` +
          `(the context is for ${withoutCredentials(withheld.contextUrl)}): pass GOVCTL_ADMIN_KEY for that server, or ${dropUrl} to use the context`,
      );
    }
    return connection;
  }

  /** The configured server, or an embedded reference server that is stopped at the end. */
  async target(serveArgs?: string[], resolved?: ResolvedConnection): Promise<Target> {
    const [{ resolveTarget }, { hasCredentials, withoutCredentials }] = await Promise.all([
      import('../target/resolve.js'),
      import('../core/url-credentials.js'),
    ]);
    let connection = resolved ?? (await this.connection());
    if (connection.url !== undefined && hasCredentials(connection.url)) {
      // undici ignores URL user-info, so they were never sent; say so once, and never show them.
      const url = withoutCredentials(connection.url);
      this.warnOnce(`the server URL carries credentials; they are not sent (govctl authenticates with an admin key): using ${url}`);
      connection = { ...connection, url };
    }
    const target = await resolveTarget(connection, {
      env: this.io.env,
      signal: this.signal,
      onEmbeddedStart: () =>
        this.info(this.globals.embedded ? 'starting a temporary embedded reference server (--embedded)' : 'no --url or context: starting the embedded reference server'),
      ...(serveArgs ? { serveArgs } : {}),
    });
    this.onCleanup(() => target.release());
    return target;
  }

  /**
   * A client for the target, closed at the end. `purpose` "admin" needs a configured server
   * (or --embedded, and then notes that what it changes is thrown away with the server).
   */
  async client(
    purpose: 'read' | 'admin' = 'read',
    serveArgs?: string[],
    options: { wholeCommand?: boolean } = {},
  ): Promise<{ client: GovernanceClient; target: Target }> {
    const g = this.globals;
    const connection = await this.connection();
    if (purpose === 'admin' && connection.url === undefined && !g.embedded) {
      // A key "created" on a server that vanishes at exit looks real and is not: refuse, unless asked for.
      throw new UsageError('no server configured: pass --url or create a context (govctl config set-context NAME --url URL)', {
        hint: 'or pass --embedded to run it against a temporary server whose state is discarded at exit',
      });
    }
    const settings = await this.clientSettings();
    if (g.insecure) this.warn('--insecure: TLS certificates are NOT verified; anyone on the network path can read and change this traffic');
    const target = await this.target(serveArgs, connection);
    if (purpose === 'admin' && target.kind === 'embedded') {
      this.info('note: the embedded server is temporary; what this command changes is discarded when it exits');
    }
    const client = await this.clientFor(target, { settings, signal: this.signal, wholeCommand: options.wholeCommand === true });
    return { client, target };
  }

  /**
   * A client for `target`, closed at the end. Without `signal`, its requests outlive Ctrl-C:
   * for the cleanup work that must still happen then (revoking the keys a run created).
   */
  async clientFor(target: Target, options: { signal?: AbortSignal; settings?: ClientSettings; wholeCommand?: boolean } = {}): Promise<GovernanceClient> {
    const { GovernanceClient } = await import('../client/governance-client.js');
    const settings = options.settings ?? (await this.clientSettings());
    const client = new GovernanceClient({
      baseUrl: target.url,
      timeoutMs: settings.timeoutMs,
      insecure: this.globals.insecure,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.wholeCommand ? { wholeCommand: true } : {}),
      ...(settings.caCert !== undefined ? { caCert: settings.caCert } : {}),
      ...(target.adminKey !== undefined ? { adminKey: target.adminKey } : {}),
      onRetry: ({ attempt, delayMs, reason }) => this.info(`retrying (${attempt}) in ${delayMs} ms: ${reason}`),
      // --verbose: one line per HTTP request (method, URL, status, time); never headers or bodies.
      ...(this.globals.verbose
        ? { onTrace: (t: HttpTrace) => this.io.stderr.write(`${printable(`http: ${t.method} ${t.url} -> ${t.status ?? `failed: ${t.error ?? 'no answer'}`} (${t.ms.toFixed(1)} ms)`)}\n`) }
        : {}),
    });
    this.onCleanup(() => client.close());
    return client;
  }

  /** --timeout and --ca-cert, read and checked. */
  async clientSettings(): Promise<ClientSettings> {
    const g = this.globals;
    const [{ parsePositiveDuration }, { readFile }] = await Promise.all([import('../core/duration.js'), import('node:fs/promises')]);
    const timeoutMs = parsePositiveDuration(g.timeout, '--timeout');
    let caCert: string | undefined;
    if (g.caCert !== undefined) {
      try {
        caCert = await readFile(g.caCert, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --ca-cert ${g.caCert}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    return { timeoutMs, ...(caCert !== undefined ? { caCert } : {}) };
  }
}

export interface ClientSettings {
  timeoutMs: number;
  caCert?: string;
}
