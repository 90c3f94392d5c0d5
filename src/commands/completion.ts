import type { Command, Option } from 'commander';
import { usageError } from '../exit-codes.js';
import { COMPLETION_SHELLS, renderCompletion, type CompletionShell, type CompletionSpec, type CompletionValue } from '../reporters/completion-scripts.js';
import type { CommandIO } from './io.js';

/**
 * What a shell completes after an option or in an argument's place, read from
 * its placeholder (and an argument's description): `<file>`, `<capacity.json>`,
 * `<scenario>`, `<script>`, "... YAML ...": files; `<dir>`:
 * folders; a list of choices: those; anything else (a number, a URL): nothing.
 */
function valueKind(name: string, choices: readonly string[] | undefined, description = ''): CompletionValue {
  if (choices?.length) return { choices: [...choices] };
  if (/dir/i.test(name)) return 'dir';
  if (/file|scenario|script|results|baseline|current|\.json|\.csv|\.ya?ml/i.test(name) || /\b(file|json|csv|ya?ml)\b/i.test(description)) return 'file';
  return 'text';
}

function optionSpec(o: Option): CompletionSpec['options'][number] {
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  return {
    flags: [o.short, o.long].filter((f): f is string => f !== undefined),
    description: o.description,
    value: placeholder === undefined ? undefined : valueKind(placeholder, o.argChoices),
  };
}

/**
 * The completion model of a commander program: every command, subcommand and
 * option as the program defines them, so the scripts never drift from it.
 */
export function completionSpec(cmd: Command): CompletionSpec {
  const options = cmd.options.filter((o) => !o.hidden).map(optionSpec);
  options.push({ flags: ['-h', '--help'], description: 'display help for command', value: undefined });
  return {
    name: cmd.name(),
    description: cmd.description(),
    options,
    // An argument's description says what it is too (`<script>`: "Artillery YAML script").
    args: cmd.registeredArguments.map((a) => valueKind(a.name(), a.argChoices, a.description)),
    commands: cmd.commands.map(completionSpec),
  };
}

/** `scalectl completion <shell>`: prints the completion script for the program on stdout. */
export function completionCommand(shell: string, program: Command, io: CommandIO): number {
  if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) throw usageError(`completion: expected one of ${COMPLETION_SHELLS.join(', ')}, got "${shell}"`);
  io.stdout.write(renderCompletion(shell as CompletionShell, completionSpec(program)));
  return 0;
}
