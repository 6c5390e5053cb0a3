import type { BackupManager } from '../backups.js';
import type { HealthProbe } from '../health-probe.js';
import type { ServerMetrics } from '../metrics.js';
import type { RateLimiter } from '../rate-limit.js';
import type { ServerState } from '../store/state.js';

/** What every route module is handed: the server instance's own parts, never module state. */
export interface RouteContext {
  state: ServerState;
  backups: BackupManager;
  metrics: ServerMetrics;
  limiter: RateLimiter;
  health: HealthProbe;
  version: string;
  startedAt: number;
}
