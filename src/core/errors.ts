/**
 * The one error model of govctl. Every failure a user can meet is a GovctlError with a stable
 * machine `code` and the process exit code it maps to; only cli/main.ts turns them into exits.
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  auth: 4,
  notFound: 5,
  internal: 70,
  /** SIGINT (Ctrl-C): 128 + 2, as shells report it. */
  interrupted: 130,
  /** SIGTERM: 128 + 15. */
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface GovctlErrorOptions {
  /** What the user can do about it; printed after the message. */
  hint?: string;
  cause?: unknown;
}

export class GovctlError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(code: string, exitCode: ExitCodeValue, message: string, options: GovctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** A bad flag, argument or combination of them. */
export class UsageError extends GovctlError {
  constructor(message: string, options?: GovctlErrorOptions) {
    super('GOVCTL_USAGE', ExitCode.usage, message, options);
  }
}

/** An input file or value that does not validate; the message names the file, path and field. */
export class InvalidInputError extends GovctlError {
  constructor(message: string, options?: GovctlErrorOptions) {
    super('GOVCTL_INVALID_INPUT', ExitCode.usage, message, options);
  }
}

/** The target could not be reached: refused, DNS, timeout, TLS. */
export class UnreachableError extends GovctlError {
  readonly host: string;
  constructor(host: string, cause: string, options?: GovctlErrorOptions) {
    super('GOVCTL_UNREACHABLE', ExitCode.unreachable, `cannot reach ${host}: ${cause}`, options);
    this.host = host;
  }
}

/** The server refused the credentials (401) or the permission (403). */
export class AuthError extends GovctlError {
  readonly status: number;
  constructor(status: number, message: string, options?: GovctlErrorOptions) {
    super(status === 403 ? 'GOVCTL_FORBIDDEN' : 'GOVCTL_UNAUTHORIZED', ExitCode.auth, message, options);
    this.status = status;
  }
}

export class NotFoundError extends GovctlError {
  constructor(message: string, options?: GovctlErrorOptions) {
    super('GOVCTL_NOT_FOUND', ExitCode.notFound, message, options);
  }
}

/** The server answered with an error that is neither the user's input nor their credentials. */
export class ServerError extends GovctlError {
  readonly status: number;
  constructor(status: number, message: string, options?: GovctlErrorOptions) {
    super('GOVCTL_SERVER_ERROR', ExitCode.failed, message, options);
    this.status = status;
  }
}

/** Something govctl was asked to do failed (not a verdict: verdicts are data). */
export class OperationFailedError extends GovctlError {
  constructor(message: string, options?: GovctlErrorOptions) {
    super('GOVCTL_FAILED', ExitCode.failed, message, options);
  }
}

export class InterruptedError extends GovctlError {
  constructor(message = 'interrupted', options?: GovctlErrorOptions) {
    super('GOVCTL_INTERRUPTED', ExitCode.interrupted, message, options);
  }
}

export function isGovctlError(err: unknown): err is GovctlError {
  return err instanceof GovctlError;
}

/** The message of anything thrown, without assuming it is an Error. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
