import type { EventEmitter } from 'node:events';
import { CommanderError, Help, type Command, type Option } from 'commander';

/**
 * One help layout for every command, in gh's style: description and notes, then USAGE, COMMANDS,
 * ARGUMENTS, FLAGS, INHERITED FLAGS (every ancestor's flags, the globals included), EXAMPLES and
 * EXIT CODES. Declarations keep using `addHelpText('after', …)`: a line "Examples:" (or
 * "Example:") starts the examples, a line starting "Exit codes:" the exit codes, each up to the
 * next blank line; the rest is shown as notes under the description. Set on the program before the
 * commands are added, so every subcommand inherits it.
 */

/** The headings, in the order they appear. */
export const HELP_HEADINGS = ['USAGE', 'COMMANDS', 'ARGUMENTS', 'FLAGS', 'INHERITED FLAGS', 'EXAMPLES', 'EXIT CODES'] as const;

/** What a declaration's after-help text holds, sorted into sections. */
export interface HelpTextSections {
  notes: string[];
  examples: string[];
  exitCodes: string[];
}

/** Sorts free after-help text into notes, examples and exit codes (see the module comment). */
export function splitHelpText(text: string): HelpTextSections {
  const sections: HelpTextSections = { notes: [], examples: [], exitCodes: [] };
  let mode: keyof HelpTextSections = 'notes';
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*Examples?:$/i.test(line)) {
      mode = 'examples';
      continue;
    }
    const exit = /^\s*Exit codes?:\s*(.*)$/i.exec(line);
    if (exit) {
      mode = 'exitCodes';
      if (exit[1]) sections.exitCodes.push(exit[1]);
      continue;
    }
    if (line.trim() === '') {
      if (mode === 'notes' && sections.notes.length > 0 && sections.notes.at(-1) !== '') sections.notes.push('');
      mode = 'notes';
      continue;
    }
    sections[mode].push(mode === 'notes' ? line : line.trim());
  }
  while (sections.notes.at(-1) === '') sections.notes.pop();
  return sections;
}

/** The after-help texts a command was given, taken over from commander's event (read once). */
const afterTexts = new WeakMap<Command, string>();

function afterHelpText(cmd: Command): string {
  let text = afterTexts.get(cmd);
  if (text === undefined) {
    const parts: string[] = [];
    const context = { error: false, command: cmd, write: (s: string) => parts.push(s) };
    // A Command is an EventEmitter (commander's typings do not say so).
    const events = cmd as unknown as EventEmitter;
    for (const listener of events.listeners('afterHelp')) (listener as (c: typeof context) => void)(context);
    // Shown inside the layout from now on: commander must not print it again after it.
    events.removeAllListeners('afterHelp');
    text = parts.join('\n');
    afterTexts.set(cmd, text);
  }
  return text;
}

/** The examples a command's help shows (empty when it has none). */
export function helpExamples(cmd: Command): string[] {
  return splitHelpText(afterHelpText(cmd)).examples;
}

/** The flags a command inherits: its ancestors' (nearest first), minus those it redeclares, minus --help. */
export function inheritedOptions(cmd: Command, helper: Help): Option[] {
  const seen = new Set(cmd.options.map((o) => o.attributeName()));
  const inherited: Option[] = [];
  for (let ancestor = cmd.parent; ancestor; ancestor = ancestor.parent) {
    for (const option of helper.visibleOptions(ancestor)) {
      // --help is every command's own; --version only means something on govctl itself.
      if (option.long === '--help' || option.long === '--version' || seen.has(option.attributeName())) continue;
      seen.add(option.attributeName());
      inherited.push(option);
    }
  }
  return inherited;
}

function optionDescription(option: Option, helper: Help): string {
  const description = Help.prototype.optionDescription.call(helper, option);
  return option.mandatory ? `${description} (required)` : description;
}

/**
 * commander's "[options] [command]" in gh's words: "<command> [flags]", or "[command] [flags]"
 * for a command that also runs by itself (`govctl load` and `govctl load k8s`).
 */
function usage(text: string, runsItself: boolean): string {
  return text.replace('[options] [command]', runsItself ? '[command] [flags]' : '<command> [flags]').replace('[options]', '[flags]');
}

function formatHelp(cmd: Command, helper: Help): string {
  const width = helper.helpWidth ?? 80;
  const own = helper.visibleOptions(cmd);
  const inherited = inheritedOptions(cmd, helper);
  const args = helper.visibleArguments(cmd);
  const subcommands = helper.visibleCommands(cmd);
  const termWidth = Math.max(
    0,
    ...[...own, ...inherited].map((o) => helper.displayWidth(helper.optionTerm(o))),
    ...args.map((a) => helper.displayWidth(helper.argumentTerm(a))),
    ...subcommands.map((c) => helper.displayWidth(helper.subcommandTerm(c).replace(' [options]', ''))),
  );
  const item = (term: string, description: string) => helper.formatItem(term, termWidth, description, helper);
  const { notes, examples, exitCodes } = splitHelpText(afterHelpText(cmd));

  const out: string[] = [];
  const description = helper.commandDescription(cmd);
  if (description) out.push(helper.boxWrap(description, width), '');
  if (notes.length > 0) out.push(...notes, '');
  const section = (heading: string, lines: string[]) => {
    if (lines.length > 0) out.push(heading, ...lines, '');
  };
  // Whether a command has its own action is only in commander's private _actionHandler.
  const runsItself = (cmd as unknown as { _actionHandler?: unknown })._actionHandler != null;
  section('USAGE', [`  ${usage(helper.commandUsage(cmd), runsItself)}`]);
  section('COMMANDS', subcommands.map((c) => item(helper.subcommandTerm(c).replace(' [options]', ''), helper.subcommandDescription(c))));
  section('ARGUMENTS', args.map((a) => item(helper.argumentTerm(a), helper.argumentDescription(a))));
  section('FLAGS', own.map((o) => item(helper.optionTerm(o), optionDescription(o, helper))));
  section('INHERITED FLAGS', inherited.map((o) => item(helper.optionTerm(o), optionDescription(o, helper))));
  section('EXAMPLES', examples.map((e) => `  ${e}`));
  section('EXIT CODES', exitCodes.map((e) => `  ${e}`));
  if (subcommands.length > 0) out.push(`Run '${helper.commandUsage(cmd).split(' [')[0]} <command> --help' for a command's flags and examples.`, '');
  return out.join('\n');
}

/** Installs the layout on the program (before its commands are added: they copy it). */
export function configureHelpLayout(program: Command): void {
  program.helpOption('-h, --help', 'show help for this command');
  program.helpCommand('help [command]', 'show help for a command');
  program.configureHelp({ formatHelp, showGlobalOptions: false });
}

/** "govctl keys create": the command's path as typed. */
export function commandPathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The command whose parse failed, for the hint of commander's own errors. */
const failedCommand = new WeakMap<CommanderError, Command>();

/**
 * Makes every command (added so far: call after registering them) remember itself on the
 * errors commander throws, so the error line can point at that command's --help.
 */
export function trackParseErrors(program: Command): void {
  const visit = (cmd: Command) => {
    cmd.exitOverride((err) => {
      failedCommand.set(err, cmd);
      throw err;
    });
    cmd.commands.forEach(visit);
  };
  visit(program);
}

/** A commander parse error as govctl's error line and hint: { message, hint }. */
export function describeParseError(err: CommanderError): { message: string; hint: string } {
  // commander appends its suggestion on a line of its own: "\n(Did you mean health?)".
  const suggestion = /\n\(Did you mean (.*\?)\)\s*$/.exec(err.message);
  const message = (suggestion ? err.message.slice(0, suggestion.index) : err.message).replace(/^error:\s*/, '').trimEnd();
  const cmd = failedCommand.get(err);
  const see = `see ${cmd ? commandPathOf(cmd) : 'govctl'} --help`;
  const meant = suggestion ? `did you mean ${suggestion[1]}` : undefined;
  return { message, hint: meant ? `${meant} ${see}` : see };
}
