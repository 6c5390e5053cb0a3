import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * A real, size-limited filesystem for full-disk tests: a tmpfs mounted (as root) under a fresh
 * temp dir. Writes past its size fail with ENOSPC like on a full disk. Machines that do not
 * allow mounting (not root, no CAP_SYS_ADMIN, no mount binary) get a reason instead, so the
 * test can skip saying why.
 */
export interface SmallFs {
  /** The mount point (empty when mounted). */
  dir: string;
  sizeBytes: number;
  /** Unmounts (lazily when something still holds a file open) and removes the mount point. Idempotent. */
  unmount(): Promise<void>;
}

export type SmallFsResult = { fs: SmallFs; reason?: undefined } | { fs: undefined; reason: string };

export async function mountSmallFs(options: { sizeMiB?: number } = {}): Promise<SmallFsResult> {
  const sizeMiB = options.sizeMiB ?? 24;
  if (process.platform !== 'linux') return { fs: undefined, reason: `tmpfs mounts need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { fs: undefined, reason: 'mounting a tmpfs needs root' };
  const dir = await mkdtemp(join(tmpdir(), 'govctl-smallfs-'));
  const mounted = await execa('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir], { reject: false, stdin: 'ignore' });
  if (mounted.failed) {
    await rm(dir, { recursive: true, force: true });
    const why = String(mounted.stderr || mounted.message || 'mount failed').trim().split('\n')[0];
    return { fs: undefined, reason: `cannot mount a ${sizeMiB} MiB tmpfs: ${why}` };
  }
  let done: Promise<void> | undefined;
  return {
    fs: {
      dir,
      sizeBytes: sizeMiB * 1024 * 1024,
      unmount() {
        done ??= (async () => {
          const plain = await execa('umount', [dir], { reject: false, stdin: 'ignore' });
          // A file still open (a server not yet reaped): detach now, freed when it closes.
          if (plain.failed) await execa('umount', ['-l', dir], { reject: false, stdin: 'ignore' });
          await rm(dir, { recursive: true, force: true });
        })();
        return done;
      },
    },
  };
}
