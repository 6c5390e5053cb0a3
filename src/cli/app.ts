import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import type { ResolvedConnection } from '../config/resolve.js';
import { UsageError } from '../core/errors.js';
import type { GovernanceClient } from '../client/governance-client.js';
import type { Target } from '../target/resolve.js';
import type { CliIO } from './io.js';
import { renderJson, type OutputFormat } from './render/json.js';
import { makeStyle, useColor } from './render/style.js';

/** The options every command shares (declared on the program in main.ts). */
export interface GlobalOptions {
  url?: string;
  adminKey?: string;
  context?: string;
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

  constructor(
    readonly io: CliIO,
    readonly signal: AbortSignal,
    private readonly program: Command,
  ) {}

  get globals(): GlobalOptions {
    const opts = this.program.opts<Partial<GlobalOptions>>();
    const output = opts.output ?? 'table';
    if (output !== 'table' && output !== 'json' && output !== 'sarif') {
      throw new UsageError(`invalid --output "${String(output)}": use table, json or sarif`);
    }
    return {
      ...(opts.url !== undefined ? { url: opts.url } : {}),
      ...(opts.adminKey !== undefined ? { adminKey: opts.adminKey } : {}),
      ...(opts.context !== undefined ? { context: opts.context } : {}),
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

  /** A result on stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(renderJson(value));
  }

  /** Progress and notes on stderr, silenced by --quiet. */
  info(text: string): void {
    if (!this.globals.quiet) this.io.stderr.write(`${text}\n`);
  }

  /** Warnings on stderr; --quiet does not hide them. */
  warn(text: string): void {
    this.io.stderr.write(`${makeStyle(useColor(false, this.io.env, this.globals.color)).yellow('warning:')} ${text}\n`);
  }

  onCleanup(task: () => Promise<void>): void {
    this.cleanups.push(task);
  }

  async runCleanups(): Promise<void> {
    while (this.cleanups.length > 0) {
      const task = this.cleanups.pop()!;
      try {
        await task();
      } catch (err) {
        this.warn(`cleanup failed: ${(err as Error).message}`);
      }
    }
  }

  async connection(): Promise<ResolvedConnection> {
    const g = this.globals;
    if (g.adminKey !== undefined && !this.warnedAboutKeyFlag) {
      this.warnedAboutKeyFlag = true;
      this.warn('--admin-key puts the key in your shell history and process list; prefer GOVCTL_ADMIN_KEY or a context');
    }
    // Imported here so that commands which never connect (--version, --help) do not load them.
    const { configPath, loadConfig } = await import('../config/contexts.js');
    const { resolveConnection } = await import('../config/resolve.js');
    const config = await loadConfig(configPath(this.io.env));
    return resolveConnection(
      {
        ...(g.url !== undefined ? { url: g.url } : {}),
        ...(g.adminKey !== undefined ? { adminKey: g.adminKey } : {}),
        ...(g.context !== undefined ? { context: g.context } : {}),
      },
      this.io.env,
      config,
    );
  }

  /** The configured server, or an embedded reference server that is stopped at the end. */
  async target(serveArgs?: string[]): Promise<Target> {
    const { resolveTarget } = await import('../target/resolve.js');
    const target = await resolveTarget(await this.connection(), {
      env: this.io.env,
      signal: this.signal,
      onEmbeddedStart: () => this.info('no --url or context: starting the embedded reference server'),
      ...(serveArgs ? { serveArgs } : {}),
    });
    this.onCleanup(() => target.release());
    return target;
  }

  /**
   * A client for the target, closed at the end. `purpose` "admin" notes that changes made to an
   * embedded server are thrown away with it.
   */
  async client(purpose: 'read' | 'admin' = 'read'): Promise<{ client: GovernanceClient; target: Target }> {
    const g = this.globals;
    const [{ GovernanceClient }, { parseDuration }, { readFile }] = await Promise.all([
      import('../client/governance-client.js'),
      import('../core/duration.js'),
      import('node:fs/promises'),
    ]);
    const timeoutMs = parseDuration(g.timeout, '--timeout');
    let caCert: string | undefined;
    if (g.caCert !== undefined) {
      try {
        caCert = await readFile(g.caCert, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --ca-cert ${g.caCert}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (g.insecure) this.warn('--insecure: TLS certificates are NOT verified; anyone on the network path can read and change this traffic');
    const target = await this.target();
    if (purpose === 'admin' && target.kind === 'embedded') {
      this.info('note: the embedded server is temporary; what this command changes is discarded when it exits (use --url or a context)');
    }
    const client = new GovernanceClient({
      baseUrl: target.url,
      timeoutMs,
      insecure: g.insecure,
      signal: this.signal,
      ...(caCert !== undefined ? { caCert } : {}),
      ...(target.adminKey !== undefined ? { adminKey: target.adminKey } : {}),
      onRetry: ({ attempt, delayMs, reason }) => this.info(`retrying (${attempt}) in ${delayMs} ms: ${reason}`),
    });
    this.onCleanup(() => client.close());
    return { client, target };
  }
}
