import { open, type FileHandle } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { crc32, inflateRawSync } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { InterruptedError, InvalidInputError, messageOf } from '../../core/errors.js';

/** No OSV advisory comes near this; a bigger entry is a broken or hostile archive. */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
/** How much of the file one read fetches: a zip's many small entries cost one read per window. */
const WINDOW_BYTES = 4 * 1024 * 1024;

export interface ZipVisitOptions {
  signal?: AbortSignal;
  /** Called once the central directory is found, with the number of entries in it. */
  onOpen?: (entryCount: number) => void;
}

/**
 * Reads every `*.json` entry of a zip into memory, one at a time, and hands it to `visit`
 * (which may throw to stop). yauzl walks the central directory lazily; nothing is unpacked to
 * disk and at most two read windows plus one entry are held. Each entry is inflated in memory
 * and checked against its recorded size and CRC-32. A corrupt archive or entry is an
 * InvalidInputError naming the file (and the entry) and the cause.
 */
export async function forEachJsonEntry(
  zipPath: string,
  visit: (entryName: string, data: Buffer) => void,
  options: ZipVisitOptions = {},
): Promise<void> {
  const { zip, reader } = await openZip(zipPath);
  options.onOpen?.(zip.entryCount);
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      zip.on('error', (err: unknown) => fail(corrupt(zipPath, err)));
      zip.on('end', () => {
        if (settled) return;
        settled = true;
        resolve();
      });
      zip.on('entry', (entry: Entry) => {
        if (options.signal?.aborted) return fail(new InterruptedError(`interrupted while reading ${zipPath}`));
        if (entry.fileName.endsWith('/') || !entry.fileName.toLowerCase().endsWith('.json')) return zip.readEntry();
        const source = `${zipPath}:${entry.fileName}`;
        readEntry(zip, reader, entry, source).then(
          (data) => {
            if (settled) return;
            try {
              visit(entry.fileName, data);
            } catch (err) {
              return fail(err);
            }
            zip.readEntry();
          },
          (err: unknown) => fail(err instanceof InvalidInputError ? err : corruptEntry(source, err)),
        );
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

async function openZip(zipPath: string): Promise<{ zip: ZipFile; reader: WindowedReader }> {
  let file: FileHandle;
  try {
    file = await open(zipPath, 'r');
  } catch (err) {
    throw corrupt(zipPath, err);
  }
  try {
    const { size } = await file.stat();
    const reader = new WindowedReader(file, size);
    const zip = await new Promise<ZipFile>((resolve, reject) => {
      yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) => {
        if (err || !zip) reject(err ?? new Error('no zip'));
        else resolve(zip);
      });
    });
    return { zip, reader };
  } catch (err) {
    await file.close().catch(() => undefined);
    throw corrupt(zipPath, err);
  }
}

/** The entry's bytes, inflated and checked. */
async function readEntry(zip: ZipFile, reader: WindowedReader, entry: Entry, source: string): Promise<Buffer> {
  if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
    throw new InvalidInputError(`${source} is ${entry.uncompressedSize} bytes: too large for an OSV advisory (limit ${MAX_ENTRY_BYTES})`);
  }
  if (entry.isEncrypted()) throw new Error('the entry is encrypted');
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw new Error(`unsupported compression method ${entry.compressionMethod}`);
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  const raw = await reader.fetch(fileDataStart, entry.compressedSize);
  const data = entry.compressionMethod === 8 ? inflateRawSync(raw, { maxOutputLength: MAX_ENTRY_BYTES }) : raw;
  if (data.length !== entry.uncompressedSize) throw new Error(`${data.length} bytes where the directory says ${entry.uncompressedSize}`);
  if (crc32(data) >>> 0 !== entry.crc32 >>> 0) throw new Error('CRC-32 mismatch');
  return data;
}

/**
 * A yauzl reader that serves reads from a window of the file: the central directory and the
 * entries are read sequentially, so one read of a few MB answers thousands of small reads
 * (reading a 50,000-entry archive a header at a time costs seconds in syscalls alone). Two
 * windows: one follows the central directory, the other the entry data.
 */
class WindowedReader extends yauzl.RandomAccessReader {
  private windows: { start: number; bytes: Buffer }[] = [];

  constructor(
    private readonly file: FileHandle,
    private readonly size: number,
  ) {
    super();
  }

  async fetch(position: number, length: number): Promise<Buffer> {
    for (const w of this.windows) {
      if (position >= w.start && position + length <= w.start + w.bytes.length) return w.bytes.subarray(position - w.start, position - w.start + length);
    }
    const want = Math.min(Math.max(WINDOW_BYTES, length), this.size - position);
    if (position < 0 || want < length) throw new Error(`read past the end of the file (offset ${position}, ${length} bytes)`);
    const bytes = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.file.read(bytes, 0, want, position);
    if (bytesRead < length) throw new Error(`the file ends early (offset ${position})`);
    this.windows = [{ start: position, bytes: bytes.subarray(0, bytesRead) }, ...this.windows].slice(0, 2);
    return bytes.subarray(0, length);
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    this.fetch(position, length).then(
      (bytes) => {
        bytes.copy(buffer, offset);
        callback(null);
      },
      (err: Error) => callback(err),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const stream = new PassThrough();
    this.fetch(start, end - start).then(
      (bytes) => stream.end(bytes),
      (err: Error) => stream.destroy(err),
    );
    return stream;
  }

  override close(callback: (err: Error | null) => void): void {
    this.file.close().then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }
}

const HINT = '--osv-db takes a directory of OSV JSON files or an ecosystem all.zip as published by OSV';

function corruptEntry(source: string, err: unknown): InvalidInputError {
  return new InvalidInputError(`cannot read ${source}: the zip entry is corrupt: ${messageOf(err)}`, { hint: HINT, cause: err });
}

function corrupt(what: string, err: unknown): InvalidInputError {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const cause = errno === 'ENOENT' ? 'no such file or directory' : err === undefined || err === null ? 'unknown error' : messageOf(err);
  return new InvalidInputError(`cannot read ${what} as a zip archive: ${cause}`, { hint: HINT, cause: err });
}
