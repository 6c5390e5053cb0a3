import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { InvalidInputError } from '../core/errors.js';
import { scanText, type FileScanResult } from './file-scan.js';
import type { Engine } from './types.js';

/** The added lines of one file in one commit, with their line numbers in that commit's file. */
interface AddedLines {
  commit: string;
  path: string;
  lines: string[];
  numbers: number[];
}

function scanAdded(engine: Engine, added: AddedLines): FileScanResult | undefined {
  if (added.lines.length === 0) return undefined;
  const text = added.lines.join('\n');
  const { matches, suppressed } = scanText(engine, text, added.path);
  return {
    path: added.path,
    commit: added.commit,
    // Lines of the joined text map back to the lines the commit added.
    matches: matches.map((m) => ({ ...m, line: added.numbers[m.line - 1] ?? m.line })),
    suppressed,
    bytes: Buffer.byteLength(text),
  };
}

/**
 * Scans every line each commit added (`git log -p`, all branches reachable from HEAD), run with
 * execa and no shell. Results name the commit. Binary diffs carry no added lines and are passed over.
 */
export async function scanGitHistory(root: string, engine: Engine, signal?: AbortSignal): Promise<FileScanResult[]> {
  const probe = await execa('git', ['-C', root, 'rev-parse', '--is-inside-work-tree'], { reject: false });
  if (probe.exitCode !== 0) throw new InvalidInputError(`--git needs a git repository: ${root} is not inside one`);
  const head = await execa('git', ['-C', root, 'rev-parse', '--verify', '-q', 'HEAD'], { reject: false });
  if (head.exitCode !== 0) return [];

  const child = execa(
    'git',
    ['-C', root, 'log', '-p', '--no-color', '--no-ext-diff', '--unified=0', '--no-renames', '--format=commit %H', 'HEAD'],
    { buffer: { stdout: false, stderr: true }, reject: false, ...(signal ? { cancelSignal: signal } : {}) },
  );
  const results: FileScanResult[] = [];
  let current: AddedLines | undefined;
  let commit = '';
  let nextLine = 0;
  const flush = () => {
    if (current) {
      const result = scanAdded(engine, current);
      if (result) results.push(result);
    }
    current = undefined;
  };
  for await (const line of createInterface({ input: child.stdout! })) {
    if (signal?.aborted) break;
    if (line.startsWith('commit ') && /^commit [0-9a-f]{40}$/.test(line)) {
      flush();
      commit = line.slice(7);
    } else if (line.startsWith('+++ ')) {
      flush();
      const target = line.slice(4);
      current = target === '/dev/null' ? undefined : { commit, path: target.replace(/^b\//, ''), lines: [], numbers: [] };
    } else if (line.startsWith('@@')) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      nextLine = m ? Number(m[1]) : 0;
    } else if (current && line.startsWith('+')) {
      current.lines.push(line.slice(1));
      current.numbers.push(nextLine++);
    }
  }
  flush();
  const done = await child;
  if (done.exitCode !== 0 && !signal?.aborted) {
    throw new InvalidInputError(`git log failed in ${root}: ${String(done.stderr ?? '').trim().split('\n').pop() ?? `exit ${done.exitCode}`}`);
  }
  return results;
}
