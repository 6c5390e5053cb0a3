import type { Argument, Command, Option } from 'commander';

/** The shells `govctl completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The names `govctl __complete KIND` prints, read when the user presses Tab. */
export const VALUE_KINDS = ['contexts', 'profiles', 'scenarios', 'probes'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];

/** What completes a flag's value or an argument. */
export type Values =
  /** Free text (a name, a URL, a number): nothing to suggest. */
  | { type: 'none' }
  | { type: 'choices'; choices: string[] }
  /** Names asked of govctl at completion time; `list`: comma-separated; `files`: a path also does. */
  | { type: 'dynamic'; kind: ValueKind; list: boolean; files: boolean }
  | { type: 'file' }
  | { type: 'dir' };

export interface FlagSpec {
  /** "-o", when there is one. */
  short?: string;
  /** "--output". */
  long?: string;
  description: string;
  takesValue: boolean;
  values: Values;
}

export interface ArgSpec {
  name: string;
  variadic: boolean;
  values: Values;
}

export interface CommandSpec {
  /** Words after govctl: [] for govctl itself, ["keys", "create"]. */
  path: string[];
  description: string;
  /** Declared on this command. */
  own: FlagSpec[];
  /** Every flag accepted here: its own and its ancestors' (commander parses those anywhere), and --help. */
  flags: FlagSpec[];
  args: ArgSpec[];
  subcommands: CommandSpec[];
}

/**
 * A word a script may contain unquoted and hand to `compgen -W` (which expands what it is given:
 * a context name like `$(rm -rf ~)` in a hand-edited config must never reach it).
 */
export const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9._:@+=/-]*$/;

/** Flags whose values are names govctl knows (the flag's own long name decides). */
const DYNAMIC_FLAGS: Readonly<Record<string, Values>> = {
  '--context': { type: 'dynamic', kind: 'contexts', list: false, files: false },
  '--profile': { type: 'dynamic', kind: 'profiles', list: false, files: true },
  '--scenario': { type: 'dynamic', kind: 'scenarios', list: false, files: true },
  '--probe': { type: 'dynamic', kind: 'probes', list: true, files: false },
};

/** Arguments whose placeholder does not say what they are, by command path. */
const ARGUMENT_VALUES: Readonly<Record<string, Values>> = {
  'config use-context': DYNAMIC_FLAGS['--context']!,
  'config delete-context': DYNAMIC_FLAGS['--context']!,
  'config set-context': DYNAMIC_FLAGS['--context']!,
  'report compare': { type: 'file' },
  completion: { type: 'choices', choices: [...SHELLS] },
};

const HELP_FLAG: FlagSpec = { short: '-h', long: '--help', description: 'display help for command', takesValue: false, values: { type: 'none' } };

/** What a value placeholder (`<file>`, `[dir]`, `<name|file>`) says about the value. */
function valuesOfPlaceholder(placeholder: string): Values {
  const words = placeholder.replace(/[<>[\].]/g, '').split('|');
  if (words.includes('dir')) return { type: 'dir' };
  if (words.some((w) => w === 'file' || w === 'files' || w === 'path')) return { type: 'file' };
  return { type: 'none' };
}

function flagOf(option: Option): FlagSpec {
  const takesValue = option.required || option.optional;
  const placeholder = option.flags.split(/[ ,]+/).find((part) => /^[<[]/.test(part)) ?? '';
  const choices = option.argChoices?.filter((c) => SAFE_WORD.test(c));
  let values: Values = { type: 'none' };
  if (takesValue) {
    values =
      (option.long && DYNAMIC_FLAGS[option.long]) ||
      (choices && choices.length > 0 ? { type: 'choices', choices } : valuesOfPlaceholder(placeholder));
  }
  return {
    ...(option.short ? { short: option.short } : {}),
    ...(option.long ? { long: option.long } : {}),
    description: option.description,
    takesValue,
    values,
  };
}

function argOf(argument: Argument, path: string[]): ArgSpec {
  const choices = argument.argChoices?.filter((c) => SAFE_WORD.test(c));
  const values: Values = Object.hasOwn(ARGUMENT_VALUES, path.join(' '))
    ? ARGUMENT_VALUES[path.join(' ')]!
    : choices && choices.length > 0
      ? { type: 'choices', choices }
      : valuesOfPlaceholder(argument.name());
  return { name: argument.name(), variadic: argument.variadic, values };
}

/** Hidden commands and options are not offered (`__complete` itself, test-only flags). */
function isHidden(command: Command): boolean {
  return (command as unknown as { _hidden?: boolean })._hidden === true;
}

function walk(command: Command, path: string[], inherited: FlagSpec[]): CommandSpec {
  const versionFlag = path.length === 0 ? undefined : '--version';
  const own = command.options.filter((o) => !o.hidden && o.long !== versionFlag).map(flagOf);
  // Below the root, -V/--version is the program's, not the command's.
  const flags = [...own, ...inherited.filter((f) => f.long !== '--version'), HELP_FLAG];
  const subcommands = command.commands
    .filter((c) => !isHidden(c))
    .map((c) => walk(c, [...path, c.name()], [...own, ...inherited]));
  if (path.length === 0 && subcommands.length > 0) {
    // commander's implicit `help [command]`.
    const names = subcommands.map((s) => s.path[0]!).filter((n) => SAFE_WORD.test(n));
    subcommands.push({
      path: ['help'],
      description: 'display help for command',
      own: [],
      flags: [HELP_FLAG],
      args: [{ name: 'command', variadic: false, values: { type: 'choices', choices: names } }],
      subcommands: [],
    });
  }
  return {
    path,
    description: command.description(),
    own,
    flags,
    args: command.registeredArguments.map((a) => argOf(a, path)),
    subcommands,
  };
}

/**
 * The command tree a completion script is generated from, read from the real program, so a
 * command or flag added tomorrow completes without touching the scripts.
 */
export function completionTree(program: Command): CommandSpec {
  return walk(program, [], []);
}

/** Every command in the tree, parents before children. */
export function allCommands(root: CommandSpec): CommandSpec[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** Flag names as typed: "-o", "--output". */
export function flagNames(flag: FlagSpec): string[] {
  return [flag.short, flag.long].filter((n): n is string => n !== undefined);
}

/** Command names and flag names that scripts may use as they are; anything else is left out. */
export function safeNames(names: string[]): string[] {
  return names.filter((n) => SAFE_WORD.test(n.replace(/^--?/, '')));
}
