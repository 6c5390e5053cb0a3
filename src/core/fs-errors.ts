import { access, constants, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ExitCode, GovctlError, type ExitCodeValue } from './errors.js';

/** A file-system operation that failed for an ordinary reason: the path and the cause, named. */
export class FileSystemError extends GovctlError {
  readonly path: string;
  readonly errno: string | undefined;
  constructor(path: string, message: string, errno: string | undefined, exitCode: ExitCodeValue, hint?: string) {
    super('GOVCTL_FILE_SYSTEM', exitCode, message, hint === undefined ? {} : { hint });
    this.path = path;
    this.errno = errno;
  }
}

const CAUSES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  EIO: 'input/output error',
  EBUSY: 'resource busy',
  EXDEV: 'cannot move across file systems',
};

/** Errno codes that say the machine, not the user's input, is the problem (exit 1, not 2). */
const RESOURCE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE']);

export function isErrnoError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}

/**
 * Turns a file-system error into one line naming what was being done, the path and the cause:
 * `cannot write reports/x.json: permission denied`. Exit 2 (fix the path) for most causes, 1
 * for a full disk or an I/O error. Anything that is not an errno error is returned unchanged.
 */
export function fileSystemError(err: unknown, action: string, path: string): unknown {
  if (err instanceof GovctlError || !isErrnoError(err)) return err;
  const code = err.code!;
  const cause = CAUSES[code] ?? code;
  const exit = RESOURCE_ERRORS.has(code) ? ExitCode.failed : ExitCode.usage;
  return new FileSystemError(path, `cannot ${action} ${path}: ${cause}`, code, exit);
}

/** Runs `task`, mapping any file-system error it throws with `fileSystemError`. */
export async function withFileSystemErrors<T>(action: string, path: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (err) {
    throw fileSystemError(err, action, path);
  }
}

/**
 * Checks, before any work starts, that `dir` can hold output: it is a directory (created if
 * missing) and writable. A bad `--out` fails here, not after a finished run.
 */
export async function ensureWritableDir(dir: string, flag = '--out'): Promise<void> {
  const info = await stat(dir).catch((err: unknown) => {
    if (isErrnoError(err) && err.code === 'ENOENT') return undefined;
    throw fileSystemError(err, `use ${flag}`, dir);
  });
  if (info && !info.isDirectory()) {
    throw new FileSystemError(dir, `cannot use ${flag} ${dir}: it is a file, not a directory`, 'ENOTDIR', ExitCode.usage, `${flag} takes a directory; each run writes <dir>/<run-id>/`);
  }
  if (!info) await withFileSystemErrors(`create ${flag} directory`, dir, () => mkdir(dir, { recursive: true }));
  await withFileSystemErrors(`write to ${flag} directory`, dir, () => access(dir, constants.W_OK));
}

/**
 * Checks that a file can be created at `path`: its directory exists and is writable, and `path`
 * is not a directory (nor an existing file unless `overwrite`).
 */
export async function ensureWritableFile(path: string, overwrite: boolean): Promise<void> {
  const info = await stat(path).catch((err: unknown) => {
    if (isErrnoError(err) && err.code === 'ENOENT') return undefined;
    throw fileSystemError(err, 'write', path);
  });
  if (info?.isDirectory()) {
    throw new FileSystemError(path, `cannot write ${path}: it is a directory`, 'EISDIR', ExitCode.usage, 'name a file inside it');
  }
  if (info && !overwrite) {
    throw new FileSystemError(path, `cannot write ${path}: it already exists`, 'EEXIST', ExitCode.usage, 'pass --force to replace it');
  }
  const dir = dirname(path);
  const dirInfo = await stat(dir).catch((err: unknown) => {
    throw fileSystemError(err, 'write into', dir);
  });
  if (!dirInfo.isDirectory()) {
    throw new FileSystemError(dir, `cannot write into ${dir}: not a directory`, 'ENOTDIR', ExitCode.usage);
  }
  await withFileSystemErrors('write into', dir, () => access(dir, constants.W_OK));
}
