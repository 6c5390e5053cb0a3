import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parsePythonManifest } from '../../../../src/audit/sbom/python/index.js';
import type { ParsedLockfile } from '../../../../src/audit/sbom/model.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/audit/python/', import.meta.url));
export const KEY = new Uint8Array(32).fill(42);

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export function parse(dirName: string, manifest: string): Promise<ParsedLockfile> {
  return parsePythonManifest(fixture(dirName), manifest, { fingerprintKey: KEY });
}

export function byName(parsed: ParsedLockfile): Map<string, ParsedLockfile['packages'][number]> {
  return new Map(parsed.packages.map((p) => [`${p.name}@${p.version}`, p]));
}
