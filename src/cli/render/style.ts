import { Chalk, type ChalkInstance } from 'chalk';

/** Colour only on a TTY, and never with NO_COLOR (any value) or --no-color. */
export function useColor(isTTY: boolean, env: NodeJS.ProcessEnv, colorFlag: boolean): boolean {
  if (!colorFlag) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return isTTY && env['TERM'] !== 'dumb';
}

export function makeStyle(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}
