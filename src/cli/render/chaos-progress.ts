import type { ChaosEvent, Sample } from '../../chaos/types.js';
import { sampleHolds } from '../../chaos/types.js';

type SampleEvent = Extract<ChaosEvent, { type: 'sample' }>;
type PhaseEvent = Extract<ChaosEvent, { type: 'phase' }>;

/** How many of the last samples the progress line shows. */
const RECENT = 10;

/** "restart  after  +0.8s since fault  last 10: ++++------  refused" */
export function sampleLine(event: SampleEvent, recent: readonly Sample[]): string {
  const marks = recent.map((s) => (sampleHolds(s) ? '+' : '-')).join('');
  const since = event.since_fault_s === null ? '' : `+${event.since_fault_s.toFixed(1)}s since fault`;
  const last = event.sample;
  const parts = [event.probe, last.phase, since, `last ${recent.length}: ${marks}`, sampleHolds(last) ? 'healthy' : (last.error ?? 'unhealthy')];
  return parts.filter((p) => p !== '').join('  ');
}

/** "chaos restart: inject", "chaos restart: done: passed" */
export function phaseLine(event: PhaseEvent): string {
  return `chaos ${event.probe}: ${event.phase}${event.detail ? `: ${event.detail}` : ''}`;
}

/**
 * Live progress on stderr: every phase change on its own line; on a terminal, one line of the
 * latest samples redrawn as they come; otherwise a plain sample line at most every
 * `plainEveryMs`, so CI logs show the probe moving without ten lines a second.
 */
export function chaosProgressPrinter(stderr: NodeJS.WritableStream, tty: boolean, plainEveryMs = 1_000) {
  let recent: Sample[] = [];
  let drawn = false;
  let lastPlain = -Infinity;
  const finish = () => {
    if (drawn) stderr.write('\n');
    drawn = false;
  };
  return {
    phase(event: PhaseEvent): void {
      finish();
      if (event.phase === 'before') recent = [];
      stderr.write(`${phaseLine(event)}\n`);
    },
    sample(event: SampleEvent): void {
      recent = [...recent.slice(-(RECENT - 1)), event.sample];
      const line = sampleLine(event, recent);
      if (tty) {
        stderr.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else if (event.sample.t - lastPlain >= plainEveryMs) {
        lastPlain = event.sample.t;
        stderr.write(`${line}\n`);
      }
    },
    /** Ends a redrawn line so the next output starts on its own line. */
    finish,
  };
}
