import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OperationFailedError } from '../core/errors.js';
import { fileSystemError } from '../core/fs-errors.js';
import { fsyncDir, fsyncFile } from '../core/durable-write.js';
import { visible } from '../core/visible-text.js';
import { failFor, type HttpClient, type Operation } from './http.js';

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
}

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/** True for a plain file name a server may choose: `[A-Za-z0-9._-]+`, not starting with a dot. */
export function isSafeFileName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.startsWith('.') && name.length <= 255;
}

/**
 * The name to save a backup under when the user names none: the server's file name only if it
 * is safe (no path, no leading dot), else `<id>.backup`, the id sanitised the same way.
 */
export function backupFileName(id: string, serverName?: string | null): string {
  if (serverName && isSafeFileName(serverName)) return serverName;
  const safeId = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.]+/, '').slice(0, 200);
  return `${safeId === '' ? 'backup' : safeId}.backup`;
}

/**
 * Streams a backup into a temp file beside `dest`, checks its SHA-256 against the one the
 * server recorded (and the one it sent), then renames it into place. Whatever fails (a reset
 * mid-body, a full disk, a checksum mismatch, Ctrl-C), the temp file is removed and nothing is
 * left at `dest`.
 */
export async function downloadBackup(http: HttpClient, id: string, dest: string, expectedSha256?: string | null): Promise<DownloadResult> {
  const path = `/api/admin/audit/backups/${encodeURIComponent(id)}`;
  const operation: Operation = { name: `downloading backup ${id}`, method: 'GET', path, kind: 'item' };
  const temp = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.partial`);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const result = await http.stream('GET', path, { auth: 'admin', accept: '*/*' }, async (response) => {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      const out = createWriteStream(temp, { mode: 0o600, flags: 'wx' });
      let writeError: unknown;
      out.once('error', (err) => (writeError = err));
      try {
        await pipeline(response.body, counter, out);
      } catch (err) {
        // A write failure names the file; a read failure is the network's (mapped by the caller).
        if (writeError !== undefined) throw fileSystemError(writeError, 'write', dest);
        throw err;
      }
      const header = response.headers['x-checksum-sha256'];
      return typeof header === 'string' ? header : undefined;
    });
    if (!result.ok) failFor(operation, result.response, http.host);
    const sha256 = hash.digest('hex');
    const claims = [expectedSha256, result.value].filter((s): s is string => typeof s === 'string');
    const mismatch = claims.find((claim) => claim.toLowerCase() !== sha256);
    if (mismatch !== undefined) {
      throw new OperationFailedError(
        `backup ${id} failed its checksum: the server recorded ${visible(mismatch)}, the downloaded bytes hash to ${sha256}; nothing was saved`,
      );
    }
    if (claims.length === 0) throw new OperationFailedError(`backup ${id} came with no SHA-256 to check it against; nothing was saved`);
    await fsyncFile(temp);
    await rename(temp, dest).catch((err: unknown) => {
      throw fileSystemError(err, 'write', dest);
    });
    await fsyncDir(dirname(dest)).catch(() => undefined);
    return { path: dest, bytes, sha256 };
  } finally {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
