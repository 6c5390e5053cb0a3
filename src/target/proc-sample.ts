import { readFileSync } from 'node:fs';

/** One reading of a process's resources (Linux /proc), for load's resource view and the benches. */
export interface ProcessSample {
  pid: number;
  /** Resident set size now (VmRSS). */
  rssBytes: number;
  /** Peak resident set size so far (VmHWM), when the kernel reports it. */
  peakRssBytes?: number;
  /** User plus system CPU time consumed since the process started. */
  cpuSeconds: number;
  userCpuSeconds: number;
  systemCpuSeconds: number;
  /** Date.now() when the sample was read. */
  takenAt: number;
}

// USER_HZ: the unit of utime/stime in /proc/<pid>/stat. 100 on every mainstream Linux; reading it
// properly needs sysconf(_SC_CLK_TCK), which Node does not expose.
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Reads /proc/<pid>/stat and /proc/<pid>/status. Undefined when they cannot be read: not Linux,
 * or the process is gone. Synchronous on purpose: two tiny reads, cheap enough to run on a timer.
 */
export function sampleProcess(pid: number, procRoot = '/proc'): ProcessSample | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    status = readFileSync(`${procRoot}/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const cpu = parseStatCpu(stat);
  const rssKb = statusKb(status, 'VmRSS');
  // A zombie (exited, not yet reaped) has no VmRSS: treat it as gone.
  if (cpu === undefined || rssKb === undefined) return undefined;
  const peakKb = statusKb(status, 'VmHWM');
  return {
    pid,
    rssBytes: rssKb * 1024,
    ...(peakKb !== undefined ? { peakRssBytes: peakKb * 1024 } : {}),
    cpuSeconds: cpu.user + cpu.system,
    userCpuSeconds: cpu.user,
    systemCpuSeconds: cpu.system,
    takenAt: Date.now(),
  };
}

/** utime and stime (fields 14 and 15) in seconds; the command name in parentheses may hold spaces. */
export function parseStatCpu(stat: string): { user: number; system: number } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { user: utime / CLOCK_TICKS_PER_SECOND, system: stime / CLOCK_TICKS_PER_SECOND };
}

function statusKb(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}
