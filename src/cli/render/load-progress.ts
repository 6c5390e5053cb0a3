import type { LoadEvent } from '../../load/engine.js';

type Progress = Extract<LoadEvent, { type: 'progress' }>;

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One progress line: elapsed/total, stage, level, req/s, p99, errors, throttled, dropped. */
export function progressLine(p: Progress, model: 'closed' | 'open'): string {
  const live = p.live;
  const stage = p.warmup ? 'warm-up' : p.stage_label !== null ? `stage ${p.stage + 1} (${p.stage_label})` : '';
  const level = model === 'open' ? `${Math.round(p.level)}/s` : `${Math.round(p.level)} VUs`;
  const p99 = live.p99_ms === null ? '-' : `${live.p99_ms.toFixed(1)} ms`;
  const parts = [
    `${seconds(p.elapsed_ms)}/${seconds(p.total_ms)}`,
    stage,
    level,
    `${Math.round(live.rps).toLocaleString('en-US')} req/s`,
    `p99 ${p99}`,
    `errors ${live.errors}`,
    `throttled ${live.throttled}`,
    ...(model === 'open' ? [`dropped ${live.dropped}`] : []),
  ];
  return parts.filter((part) => part !== '').join('  ');
}

/**
 * Live progress on stderr: on a terminal one line redrawn each second; otherwise a plain line
 * every `plainEveryMs`, so CI logs show the run moving without a line per second.
 */
export function progressPrinter(stderr: NodeJS.WritableStream, tty: boolean, model: 'closed' | 'open', plainEveryMs = 10_000) {
  let lastPlain = -Infinity;
  let drawn = false;
  return {
    progress(p: Progress): void {
      const line = progressLine(p, model);
      if (tty) {
        stderr.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else if (p.elapsed_ms - lastPlain >= plainEveryMs || p.elapsed_ms >= p.total_ms) {
        lastPlain = p.elapsed_ms;
        stderr.write(`${line}\n`);
      }
    },
    /** Ends a redrawn line so the next output starts on its own line. */
    finish(): void {
      if (drawn) stderr.write('\n');
      drawn = false;
    },
  };
}
