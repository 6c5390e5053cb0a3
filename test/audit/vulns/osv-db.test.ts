import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchVulns } from '../../../src/audit/vulns/match.js';
import { loadOsvDb } from '../../../src/audit/vulns/osv-db.js';
import { ExitCode, InterruptedError, InvalidInputError } from '../../../src/core/errors.js';
import { DB_DIR, FIXTURES, KEY, npm, writeZip, zipOfFixtureDb } from './helpers.js';

const GOOD = JSON.stringify({ id: 'GHSA-good-good-good', modified: '2025-01-01T00:00:00Z', aliases: null, affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }] });
const keepAll = (): boolean => true;

async function rejection(promise: Promise<unknown>): Promise<InvalidInputError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidInputError);
  expect((err as InvalidInputError).exitCode).toBe(ExitCode.usage);
  return err as InvalidInputError;
}

describe('reading an OSV database', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'govctl-osv-db-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a directory recursively, a single OSV file, and a zip, keeping only what is asked', async () => {
    const fromDir = await loadOsvDb({ path: DB_DIR, keep: (a) => a.id.startsWith('PYSEC') });
    expect(fromDir.advisories).toBe(13);
    expect(fromDir.withdrawn).toBe(1);
    expect(fromDir.kept.map((a) => a.id).sort()).toEqual(['PYSEC-2024-10', 'PYSEC-2024-20', 'PYSEC-2024-30']);
    const single = await loadOsvDb({ path: join(DB_DIR, 'npm', 'GHSA-2222-3333-4444.json'), keep: keepAll });
    expect(single.kept.map((a) => a.id)).toEqual(['GHSA-2222-3333-4444']);
    const zipPath = join(dir, 'all.zip');
    await zipOfFixtureDb(zipPath);
    const fromZip = await loadOsvDb({ path: zipPath, keep: keepAll });
    expect(fromZip).toMatchObject({ advisories: 13, withdrawn: 1 });
    expect(fromZip.kept).toHaveLength(12);
  });

  it('skips dot-directories and files that are not *.json', async () => {
    await mkdir(join(dir, '.git'), { recursive: true });
    await writeFile(join(dir, '.git', 'junk.json'), 'not json at all');
    await writeFile(join(dir, 'README.md'), '# advisories');
    await writeFile(join(dir, 'GHSA-good-good-good.json'), GOOD);
    expect((await loadOsvDb({ path: dir, keep: keepAll })).advisories).toBe(1);
  });

  it('refuses a path that does not exist, naming it', async () => {
    const missing = join(dir, 'nope', 'all.zip');
    const err = await rejection(matchVulns({ components: [npm('x', '1.0.0')], osvDb: missing, fingerprintKey: KEY }));
    expect(err.message).toBe(`cannot read OSV database ${missing}: no such file or directory`);
    expect(err.hint).toContain('all.zip');
  });

  it('refuses an empty directory and an empty zip: an empty database is never a clean pass', async () => {
    await mkdir(join(dir, 'empty'));
    const err = await rejection(matchVulns({ components: [], osvDb: join(dir, 'empty'), fingerprintKey: KEY }));
    expect(err.message).toContain(`no OSV advisories in ${join(dir, 'empty')}`);
    const emptyZip = join(dir, 'empty.zip');
    await writeZip(emptyZip, {});
    expect((await rejection(loadOsvDb({ path: emptyZip, keep: keepAll }))).message).toContain(`no OSV advisories in ${emptyZip}`);
  });

  it('refuses a file that is not a zip, and a truncated zip, naming the file and the cause', async () => {
    const garbage = join(dir, 'all.zip');
    await writeFile(garbage, 'this is not a zip file, just text that is long enough to be looked at');
    const err = await rejection(loadOsvDb({ path: garbage, keep: keepAll }));
    expect(err.message).toMatch(new RegExp(`^cannot read ${garbage} as a zip archive: .*end of central directory`, 'i'));

    const good = join(dir, 'good.zip');
    await zipOfFixtureDb(good);
    const bytes = await readFile(good);
    const truncated = join(dir, 'truncated.zip');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 200));
    expect((await rejection(loadOsvDb({ path: truncated, keep: keepAll }))).message).toContain(`cannot read ${truncated} as a zip archive`);
  });

  it('refuses a zip whose entry data is corrupt, naming the entry', async () => {
    const zipPath = join(dir, 'all.zip');
    await writeZip(zipPath, { 'GHSA-good-good-good.json': GOOD });
    const bytes = await readFile(zipPath);
    const dataStart = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
    for (let i = dataStart + 4; i < dataStart + 12; i++) bytes[i] = bytes[i]! ^ 0x5a;
    await writeFile(zipPath, bytes);
    const err = await rejection(loadOsvDb({ path: zipPath, keep: keepAll }));
    expect(err.message).toMatch(new RegExp(`^cannot read ${zipPath}:GHSA-good-good-good\\.json: the zip entry is corrupt: `));
  });

  it('refuses a file that is not OSV in a directory, naming the file and the field', async () => {
    const err = await rejection(matchVulns({ components: [npm('x', '1.0.0')], osvDb: join(FIXTURES, 'not-osv'), fingerprintKey: KEY }));
    expect(err.message).toBe(`OSV advisory ${join(FIXTURES, 'not-osv', 'GHSA-bad0-bad0-bad0.json')} is invalid: $.affected[0].package: missing required field "name"`);
    expect(err.hint).toContain('osv-schema');
  });

  it('refuses a zip entry that is not OSV, naming it as all.zip:ENTRY — even when no component needs it', async () => {
    const zipPath = join(dir, 'all.zip');
    await writeZip(zipPath, { 'GHSA-good-good-good.json': GOOD, 'GHSA-xxxx-yyyy-zzzz.json': JSON.stringify({ name: 'left-pad', version: '1.0.0' }) });
    const err = await rejection(matchVulns({ components: [npm('unrelated', '1.0.0')], osvDb: zipPath, fingerprintKey: KEY }));
    expect(err.message).toBe(`OSV advisory ${zipPath}:GHSA-xxxx-yyyy-zzzz.json is invalid: $: missing required field "id"; $: missing required field "modified"`);
  });

  it('refuses invalid JSON and malformed events, with the JSON path', async () => {
    const cases: [string, string][] = [
      ['{"id": "GHSA-1", "modified": ', 'is not valid JSON'],
      [JSON.stringify({ id: 'GHSA-2', modified: 'x', affected: [{ ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1.0.0' }] }] }] }), '$.affected[0].ranges[0].events[0]: an event has exactly one of "introduced", "fixed", "last_affected", "limit" (found introduced, fixed)'],
      [JSON.stringify({ id: 'GHSA-3', modified: 'x', affected: [{ ranges: [{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }] }] }), '$.affected[0].ranges[0].events: no "introduced" event'],
      [JSON.stringify({ id: 'GHSA-4', modified: 'x', affected: [{ ranges: [{ type: 'SEMVER', events: [{ introduced: 0 }] }] }] }), '$.affected[0].ranges[0].events[0].introduced: must be string'],
      [JSON.stringify([{ id: 'GHSA-5' }]), '$: must be object'],
    ];
    for (const [i, [text, expected]] of cases.entries()) {
      const file = join(dir, `case-${i}.json`);
      await writeFile(file, text);
      const err = await rejection(loadOsvDb({ path: file, keep: keepAll }));
      expect(err.message).toContain(file);
      expect(err.message).toContain(expected);
    }
  });

  it('stops with InterruptedError when the signal is aborted', async () => {
    const zipPath = join(dir, 'all.zip');
    await zipOfFixtureDb(zipPath);
    const controller = new AbortController();
    let seen = 0;
    const reading = loadOsvDb({
      path: zipPath,
      signal: controller.signal,
      keep: () => {
        seen += 1;
        if (seen === 2) controller.abort();
        return false;
      },
    });
    await expect(reading).rejects.toBeInstanceOf(InterruptedError);
  });

  it('reads a database copied next to other files by its path, whatever the extension of a zip', async () => {
    const zipPath = join(dir, 'npm-advisories.bin');
    await zipOfFixtureDb(join(dir, 'tmp.zip'));
    await copyFile(join(dir, 'tmp.zip'), zipPath);
    expect((await loadOsvDb({ path: zipPath, keep: keepAll })).advisories).toBe(13);
  });
});
