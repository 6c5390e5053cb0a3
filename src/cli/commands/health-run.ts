import type { HealthReport } from '../../client/governance-client.js';
import { AuthError, ExitCode } from '../../core/errors.js';
import type { CliApp } from '../app.js';
import { renderKeyValues, styled, type Cell } from '../render/output.js';
import { visible } from '../render/visible.js';
import { adminClient } from './admin-client.js';

export interface HealthFlags {
  detailed?: boolean;
}

type AdminCheck = 'ok' | 'refused' | 'not configured';

export async function healthCommand(app: CliApp, options: { detailed: boolean }): Promise<number> {
  const { client, target } = await adminClient(app, 'read');

  const health = await client.health(options.detailed);
  let admin: AdminCheck = 'not configured';
  let adminError: AuthError | undefined;
  if (target.adminKey !== undefined) {
    try {
      await client.checkAdminAccess();
      admin = 'ok';
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      admin = 'refused';
      adminError = err;
    }
  }

  if (app.json) {
    app.printJson({ url: client.url, target: target.kind, ...health, admin_key: admin });
  } else {
    app.print(render(app, client.url, target.kind, health, admin));
  }
  if (adminError) throw adminError;
  return health.healthy ? ExitCode.ok : ExitCode.failed;
}

function render(app: CliApp, url: string, kind: string, health: HealthReport, admin: AdminCheck): string {
  const s = app.style;
  // A status the server did not give is not made up: the reason row says what came instead.
  const said = health.status === null ? 'unhealthy' : visible(health.status);
  const status = health.healthy ? s.green(said) : s.red(said);
  const rows: Array<[string, Cell]> = [
    ['status', styled(`${status} (HTTP ${health.http_status})`)],
    ...(health.reason !== null ? ([['reason', health.reason]] as Array<[string, Cell]>) : []),
    ['url', `${url}${kind === 'embedded' ? ' (embedded)' : ''}`],
    ['version', health.version],
    ['uptime', health.uptime_s === null ? null : `${health.uptime_s} s`],
    ['latency', `${health.latency_ms} ms`],
    ['admin key', admin === 'refused' ? styled(s.red(admin)) : admin],
  ];
  for (const [name, value] of Object.entries(health.components ?? {})) {
    rows.push([`  ${visible(name)}`, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return renderKeyValues(rows, s);
}
