import { allCommands, flagNames, safeNames, type CommandSpec, type FlagSpec, type Values } from './tree.js';

/** A word in single quotes for bash and zsh. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** One line of a description: help texts may wrap or carry quotes. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * A `case` pattern matching `<path>|<word>` for a flag declared on `owner`: there and in every
 * command below it (ancestors' flags are parsed anywhere after them).
 */
export function inheritedPattern(owner: string[], word: string): string {
  const path = owner.join(' ');
  if (owner.length === 0) return `*${shQuote(`|${word}`)}`;
  return `${shQuote(`${path}|${word}`)}|${shQuote(`${path} `)}*${shQuote(`|${word}`)}`;
}

/** Flag declarations with their owning command, deepest owners first (the most specific pattern wins). */
export function declaredFlags(root: CommandSpec): Array<{ owner: string[]; flag: FlagSpec }> {
  const out = allCommands(root).flatMap((command) => command.own.map((flag) => ({ owner: command.path, flag })));
  return out.sort((a, b) => b.owner.length - a.owner.length);
}

/** `path) echo 'words' ;;` arms (one line, space-separated): the subcommands or the flags of each command. */
export function wordArms(root: CommandSpec, words: (command: CommandSpec) => string[]): string[] {
  return allCommands(root)
    .map((command) => ({ path: command.path.join(' '), list: words(command) }))
    .filter(({ list }) => list.length > 0)
    .map(({ path, list }) => `    ${shQuote(path)}) echo ${shQuote(list.join(' '))} ;;`);
}

export function subcommandWords(command: CommandSpec): string[] {
  return safeNames(command.subcommands.map((s) => s.path[s.path.length - 1]!));
}

export function flagWords(command: CommandSpec): string[] {
  return [...new Set(safeNames(command.flags.flatMap(flagNames)))];
}

/** The flags that consume the next word (walking the command line must skip their values). */
export function valueFlagWords(command: CommandSpec): string[] {
  return [...new Set(safeNames(command.flags.filter((f) => f.takesValue).flatMap(flagNames)))];
}

/** For each flag that completes a value: the case arms, its patterns and the values. */
export function valueArms(root: CommandSpec, render: (values: Values) => string | undefined): string[] {
  const arms: string[] = [];
  for (const { owner, flag } of declaredFlags(root)) {
    if (!flag.takesValue) continue;
    const body = render(flag.values);
    const names = safeNames(flagNames(flag));
    if (body !== undefined && names.length > 0) arms.push(`    ${names.map((n) => inheritedPattern(owner, n)).join('|')}) ${body} ;;`);
  }
  return arms;
}

/** Case arms on `<path>|<index>` for positional arguments (a variadic one takes every index from its own on). */
export function argumentArms(root: CommandSpec, render: (values: Values) => string | undefined): string[] {
  const arms: string[] = [];
  for (const command of allCommands(root)) {
    const path = command.path.join(' ');
    command.args.forEach((arg, index) => {
      const body = render(arg.values) ?? ':';
      const pattern = arg.variadic ? `${shQuote(`${path}|`)}*` : shQuote(`${path}|${index}`);
      arms.push(`    ${pattern}) ${body} ;;`);
    });
  }
  return arms;
}
