import type { Deviation, GovernanceClient } from '../../client/governance-client.js';
import type { Target } from '../../target/resolve.js';
import type { CliApp } from '../app.js';

/** How many deviations the note shows without --verbose. */
const SHOWN = 3;

function describe(d: Deviation): string {
  return `${d.operation ?? ''} ${d.path}: expected ${d.expected}, got ${d.got}`.trim();
}

/**
 * The client for an admin command, with a note at the end (stderr) when the server's answers
 * differed from the contract: absent fields are shown as null / "-", never made up, and the
 * user is told why. --verbose lists every difference.
 */
export async function adminClient(
  app: CliApp,
  purpose: 'read' | 'admin' = 'admin',
  options: { wholeCommand?: boolean } = {},
): Promise<{ client: GovernanceClient; target: Target }> {
  // A one-shot command ends within its --timeout however many requests it sends; a follow or a
  // download's body is not bounded by it.
  const connected = await app.client(purpose, undefined, { wholeCommand: options.wholeCommand ?? true });
  const { client } = connected;
  app.onCleanup(async () => {
    const found = client.deviations;
    // After Ctrl-C the one line "interrupted" is the whole story.
    if (found.length === 0 || app.signal.aborted) return;
    const verbose = app.globals.verbose;
    const shown = verbose ? found : found.slice(0, SHOWN);
    const more = found.length - shown.length;
    app.info(`note: ${client.http.host} answered differently from the governance API contract in ${found.length} place(s); absent values are shown as - (null in JSON):`);
    for (const d of shown) app.info(`  ${describe(d)}`);
    if (more > 0) app.info(`  … ${more} more (--verbose lists them)`);
  });
  return connected;
}
