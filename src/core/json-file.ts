import { readFile } from 'node:fs/promises';
import { InvalidInputError, messageOf } from './errors.js';

/**
 * Reads and parses a JSON input file (rules, baseline, config, ...). Every failure is an
 * InvalidInputError that names the file and says what is wrong with it; validation against a
 * schema is the caller's next step.
 */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : messageOf(err);
    throw new InvalidInputError(`cannot read ${what} ${path}: ${why}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidInputError(`${what} ${path} is not valid JSON: ${messageOf(err)}`, { cause: err });
  }
}
