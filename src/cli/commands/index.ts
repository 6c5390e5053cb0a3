import type { Command } from 'commander';
import type { Registry } from '../command.js';
import { registerAudit } from './audit.js';
import { registerBackups } from './backups.js';
import { registerChaos } from './chaos.js';
import { registerCompletion } from './completion.js';
import { registerConfig } from './config.js';
import { registerGate } from './gate.js';
import { registerHealth } from './health.js';
import { registerKeys } from './keys.js';
import { registerLoad } from './load.js';
import { registerLogs } from './logs.js';
import { registerPolicies } from './policies.js';
import { registerRelease } from './release.js';
import { registerReleaseCheck } from './release-check.js';
import { registerReport } from './report.js';
import { registerScan } from './scan.js';
import { registerServe } from './serve.js';
import { registerVersion } from './version.js';

/** The one list of command groups, in the order `govctl --help` shows them. */
export const COMMAND_GROUPS: ReadonlyArray<(program: Command, registry: Registry) => void> = [
  registerServe,
  registerHealth,
  registerLoad,
  registerChaos,
  registerKeys,
  registerPolicies,
  registerLogs,
  registerBackups,
  registerScan,
  registerAudit,
  registerGate,
  registerRelease,
  registerReleaseCheck,
  registerReport,
  registerConfig,
  registerCompletion,
  registerVersion,
];
