/**
 * The disk probe's ballast: one file that fills a filesystem until the kernel says ENOSPC, or a
 * bound is reached. The bounds are what makes this safe on a real disk: never more than
 * `maxBytes`, and on a filesystem govctl did not create, never less than `keepFreeBytes` left
 * free. The file is removed on every way out: remove(), an abort mid-fill, or any write error.
 */
import { randomBytes } from 'node:crypto';
import { open, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError } from '../core/errors.js';
import { fileSystemError } from '../core/fs-errors.js';

export const BALLAST_PREFIX = '.govctl-ballast-';
const CHUNK_BYTES = 1024 * 1024;

export interface FillOptions {
  /** Never write more than this. */
  maxBytes: number;
  /**
   * On a filesystem govctl did not create, stop before free space drops under this. 0 means
   * no floor: fill until ENOSPC (or maxBytes).
   */
  keepFreeBytes: number;
  /** The filesystem was made for this run (a test's tmpfs): the keep-free floor does not apply. */
  createdFs: boolean;
  /** Aborting mid-fill removes the file and rejects with InterruptedError. */
  signal?: AbortSignal;
}

export interface Ballast {
  path: string;
  /** Bytes written (all of them allocated: the kernel accepted them). */
  bytes: number;
  /** The filesystem answered ENOSPC: it is really full. */
  reachedEnospc: boolean;
  /** Why filling stopped, for the journal ("ENOSPC", "max-ballast", "keep-free"). */
  stoppedBy: 'enospc' | 'max-ballast' | 'keep-free';
  /** Deletes the file; idempotent, never throws for a file already gone. */
  remove(): Promise<void>;
}

/** Free bytes an unprivileged writer could still use (f_bavail: root's reserve excluded). */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

export async function fillFilesystem(dir: string, options: FillOptions): Promise<Ballast> {
  if (options.signal?.aborted) throw new InterruptedError('interrupted before the ballast was written');
  const path = join(dir, `${BALLAST_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  let removed: Promise<void> | undefined;
  const remove = (): Promise<void> =>
    (removed ??= unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') {
        removed = undefined;
        throw fileSystemError(err, 'remove the ballast file', path);
      }
    }));
  // Random bytes: a compressing or deduplicating filesystem would store zeros for nothing.
  const chunk = randomBytes(CHUNK_BYTES);
  const floor = options.createdFs ? 0 : Math.max(0, options.keepFreeBytes);
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    throw fileSystemError(err, 'create the ballast file', path);
  }
  let bytes = 0;
  let stoppedBy: Ballast['stoppedBy'] = 'max-ballast';
  try {
    while (bytes < options.maxBytes) {
      if (options.signal?.aborted) throw new InterruptedError('interrupted while writing the ballast file');
      let want = Math.min(CHUNK_BYTES, options.maxBytes - bytes);
      if (floor > 0) {
        const allowed = (await freeBytes(dir)) - floor;
        if (allowed <= 0) {
          stoppedBy = 'keep-free';
          break;
        }
        want = Math.min(want, allowed);
      }
      try {
        const { bytesWritten } = await handle.write(chunk, 0, want, null);
        bytes += bytesWritten;
        // A short write means the space ran out; the next write says so with ENOSPC.
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT') {
          stoppedBy = 'enospc';
          break;
        }
        throw fileSystemError(err, 'write the ballast file', path);
      }
    }
    // Blocks of a delayed-allocation filesystem are really taken once the data is on disk.
    await handle.datasync().catch(() => undefined);
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await remove().catch(() => undefined);
    throw err;
  }
  if (options.signal?.aborted) {
    await remove();
    throw new InterruptedError('interrupted while writing the ballast file');
  }
  return { path, bytes, reachedEnospc: stoppedBy === 'enospc', stoppedBy, remove };
}
