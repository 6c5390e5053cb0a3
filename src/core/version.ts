import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** govctl's version, from its package.json (src/core and dist/core sit at the same depth). */
export function govctlVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    cached = pkg.version;
  }
  return cached;
}
