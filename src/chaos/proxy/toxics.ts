import { parseDuration } from '../../core/duration.js';
import { InvalidInputError } from '../../core/errors.js';

/**
 * The faults the proxy can apply, after toxiproxy's toxics. "upstream" is client -> server,
 * "downstream" server -> client; a latency without a direction delays the downstream (as
 * toxiproxy does), so "latency:200ms" adds about 200 ms to every request/response round trip.
 */
export type ToxicDirection = 'upstream' | 'downstream' | 'both';

export type Toxic =
  /** Delays every chunk by latency_ms ± jitter_ms (uniform), keeping the byte order. */
  | { type: 'latency'; latency_ms: number; jitter_ms?: number; direction?: ToxicDirection }
  /** A token bucket per connection and direction, in kilobits per second (1 kbps = 1000 bit/s). */
  | { type: 'bandwidth'; rate_kbps: number; direction?: ToxicDirection }
  /** A real TCP RST to every client, open or new. */
  | { type: 'reset' }
  /** Accepts and never answers: data is read and dropped both ways, nothing is closed. */
  | { type: 'blackhole' }
  /** When the server closes, the close reaches the client delay_ms later. */
  | { type: 'slow_close'; delay_ms: number }
  /** New connections are refused (ECONNREFUSED); open ones carry on. */
  | { type: 'refuse' };

export type ToxicType = Toxic['type'];

export const TOXIC_FORMS = 'latency:200ms, latency:200ms:50ms (with jitter), bandwidth:64kbps, reset, blackhole, slow_close:2s, refuse';

function invalid(text: string, why?: string): InvalidInputError {
  return new InvalidInputError(`invalid toxic "${text}"${why ? ` (${why})` : ''}: expected one of ${TOXIC_FORMS}`);
}

/** A duration with an explicit unit: "200" alone would be seconds to parseDuration, a trap here. */
function durationMs(text: string, part: string): number {
  if (!/^\s*\d+(?:\.\d+)?\s*(ms|s|m)\s*$/.test(part)) throw invalid(text, `"${part}" is not a duration such as 200ms or 2s`);
  return parseDuration(part);
}

/** Parses the CLI form of a toxic; see TOXIC_FORMS. */
export function parseToxic(text: string): Toxic {
  const [name = '', ...args] = text.trim().split(':');
  const arity = (min: number, max: number): void => {
    if (args.length < min || args.length > max) throw invalid(text);
  };
  switch (name.toLowerCase()) {
    case 'latency': {
      arity(1, 2);
      const latency_ms = durationMs(text, args[0]!);
      if (args[1] === undefined) return { type: 'latency', latency_ms };
      const jitter_ms = durationMs(text, args[1]);
      return { type: 'latency', latency_ms, jitter_ms };
    }
    case 'bandwidth': {
      arity(1, 1);
      const match = /^\s*(\d+(?:\.\d+)?)\s*kbps\s*$/i.exec(args[0]!);
      const rate_kbps = match ? Number(match[1]) : NaN;
      if (!(rate_kbps > 0)) throw invalid(text, 'the rate must be a positive number of kbps');
      return { type: 'bandwidth', rate_kbps };
    }
    case 'slow_close': {
      arity(1, 1);
      return { type: 'slow_close', delay_ms: durationMs(text, args[0]!) };
    }
    case 'reset':
    case 'blackhole':
    case 'refuse':
      arity(0, 0);
      return { type: name.toLowerCase() as 'reset' | 'blackhole' | 'refuse' };
    default:
      throw invalid(text);
  }
}

/** The CLI form of a toxic (parseToxic's inverse), for journals and progress lines. */
export function formatToxic(toxic: Toxic): string {
  switch (toxic.type) {
    case 'latency': {
      const jitter = toxic.jitter_ms ? `:${toxic.jitter_ms}ms` : '';
      const direction = toxic.direction && toxic.direction !== 'downstream' ? ` (${toxic.direction})` : '';
      return `latency:${toxic.latency_ms}ms${jitter}${direction}`;
    }
    case 'bandwidth':
      return `bandwidth:${toxic.rate_kbps}kbps${toxic.direction && toxic.direction !== 'both' ? ` (${toxic.direction})` : ''}`;
    case 'slow_close':
      return `slow_close:${toxic.delay_ms}ms`;
    default:
      return toxic.type;
  }
}

/** Rejects a toxic built in code with values the proxy cannot honour (the CLI path goes through parseToxic). */
export function assertValidToxic(toxic: Toxic): void {
  const bad = (why: string): never => {
    throw new InvalidInputError(`invalid toxic ${JSON.stringify(toxic)}: ${why}`);
  };
  const nonNegative = (v: unknown, field: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(`${field} must be a number >= 0`);
  };
  switch (toxic.type) {
    case 'latency':
      nonNegative(toxic.latency_ms, 'latency_ms');
      if (toxic.jitter_ms !== undefined) nonNegative(toxic.jitter_ms, 'jitter_ms');
      break;
    case 'bandwidth':
      if (!(toxic.rate_kbps > 0) || !Number.isFinite(toxic.rate_kbps)) bad('rate_kbps must be a positive number');
      break;
    case 'slow_close':
      nonNegative(toxic.delay_ms, 'delay_ms');
      break;
    case 'reset':
    case 'blackhole':
    case 'refuse':
      break;
    default:
      bad(`unknown type; expected latency, bandwidth, reset, blackhole, slow_close or refuse`);
  }
  if ('direction' in toxic && toxic.direction !== undefined && !['upstream', 'downstream', 'both'].includes(toxic.direction)) {
    bad('direction must be upstream, downstream or both');
  }
}
