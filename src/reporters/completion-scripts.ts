/*
 * Shell completion scripts for bash, zsh and fish, rendered from a model of
 * the commander program (src/commands/completion.ts builds it), so that every
 * command and option the program has is completed and nothing else.
 */

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** What goes after an option or in an argument's place: files, folders, one of some choices, or free text (nothing to complete). */
export type CompletionValue = 'file' | 'dir' | 'text' | { choices: string[] };

/** A command: its options, its positional arguments and its subcommands. */
export interface CompletionSpec {
  name: string;
  description: string;
  /** Each with its flags (`-o`, `--out`) and, when it takes a value, what kind. */
  options: { flags: string[]; description: string; value: CompletionValue | undefined }[];
  args: CompletionValue[];
  commands: CompletionSpec[];
}

interface Entry { path: string[]; spec: CompletionSpec }

/** Every command with the words that lead to it (`['scalectl', 'plan', 'usl']`), root first. */
function entries(spec: CompletionSpec, path: string[] = [spec.name]): Entry[] {
  return [{ path, spec }, ...spec.commands.flatMap((c) => entries(c, [...path, c.name]))];
}

/** Text in single quotes for sh-like shells (bash, zsh). */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** Text in single quotes for fish, where a quote and a backslash are escaped with a backslash. */
const fq = (s: string): string => `'${s.replace(/[\\']/g, '\\$&')}'`;
/** One line, for a description. */
const line = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** What an argument position completes: the first choice list, else files or folders when any argument is one. */
function argValue(spec: CompletionSpec): CompletionValue {
  return spec.args.find((a) => typeof a === 'object') ?? spec.args.find((a) => a === 'file') ?? spec.args.find((a) => a === 'dir') ?? 'text';
}

const header = (shell: string, load: string): string =>
  `# ${shell} completion for scalectl, generated from its commands by \`scalectl completion ${shell}\`.\n# ${load}\n`;

function bashValue(v: CompletionValue): string {
  if (v === 'file') return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur")';
  if (v === 'dir') return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur")';
  if (v === 'text') return ':';
  return `mapfile -t COMPREPLY < <(compgen -W ${sq(v.choices.join(' '))} -- "$cur")`;
}

function renderBash(all: Entry[]): string {
  const steps = all.slice(1).map((e) => sq(e.path.join(' '))).join('|');
  const cases = all.map(({ path, spec }) => {
    const valued = spec.options.filter((o) => o.value !== undefined);
    const words = spec.options.flatMap((o) => o.flags).join(' ');
    const rest = spec.commands.length ? { choices: spec.commands.map((c) => c.name) } : argValue(spec);
    return [
      `    ${sq(path.join(' '))})`,
      ...(valued.length ? ['      case "$prev" in', ...valued.map((o) => `        ${o.flags.join('|')}) ${bashValue(o.value!)}; return ;;`), '      esac'] : []),
      `      if [[ $cur == -* ]]; then mapfile -t COMPREPLY < <(compgen -W ${sq(words)} -- "$cur"); else ${bashValue(rest)}; fi`,
      '      ;;',
    ].join('\n');
  });
  return `${header('bash', 'Load it with: source <(scalectl completion bash), or save it as ~/.local/share/bash-completion/completions/scalectl')}
_scalectl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd=scalectl i
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "$cmd \${COMP_WORDS[i]}" in
      ${steps}) cmd="$cmd \${COMP_WORDS[i]}" ;;
    esac
  done
  case "$cmd" in
${cases.join('\n')}
  esac
}
complete -F _scalectl scalectl
`;
}

function zshValue(v: CompletionValue): string {
  if (v === 'file') return '_files';
  if (v === 'dir') return '_files -/';
  if (v === 'text') return ":";
  return `compadd -- ${v.choices.map(sq).join(' ')}`;
}

function renderZsh(all: Entry[]): string {
  const steps = all.slice(1).map((e) => sq(e.path.join(' '))).join('|');
  const cases = all.map(({ path, spec }) => {
    const valued = spec.options.filter((o) => o.value !== undefined);
    const opts = spec.options.flatMap((o) => o.flags.map((f) => sq(`${f}:${line(o.description)}`)));
    const rest = spec.commands.length
      ? `subcommands=(${spec.commands.map((c) => sq(`${c.name}:${line(c.description)}`)).join(' ')}); _describe -t commands command subcommands`
      : zshValue(argValue(spec));
    return [
      `    ${sq(path.join(' '))})`,
      ...(valued.length ? ['      case "$prev" in', ...valued.map((o) => `        ${o.flags.join('|')}) ${zshValue(o.value!)}; return ;;`), '      esac'] : []),
      `      if [[ $PREFIX == -* ]]; then opts=(${opts.join(' ')}); _describe -t options option opts; else ${rest}; fi`,
      '      ;;',
    ].join('\n');
  });
  return `#compdef scalectl
${header('zsh', 'Load it with: source <(scalectl completion zsh) after compinit, or save it as _scalectl in a folder of your $fpath')}
_scalectl() {
  local cmd=scalectl prev="\${words[CURRENT-1]}" i
  local -a opts subcommands
  for ((i = 2; i < CURRENT; i++)); do
    case "$cmd \${words[i]}" in
      ${steps}) cmd="$cmd \${words[i]}" ;;
    esac
  done
  case "$cmd" in
${cases.join('\n')}
  esac
}
if [[ "\${funcstack[1]}" == _scalectl ]]; then
  _scalectl "$@"
else
  compdef _scalectl scalectl
fi
`;
}

function fishValue(v: CompletionValue): string {
  if (v === 'file') return '-F';
  if (v === 'dir') return "-f -a '(__fish_complete_directories)'";
  if (v === 'text') return '-f';
  return `-f -a ${fq(v.choices.join(' '))}`;
}

function renderFish(all: Entry[]): string {
  const out = [header('fish', 'Load it with: scalectl completion fish | source, or save it as ~/.config/fish/completions/scalectl.fish'), 'complete -c scalectl -f'];
  for (const { path, spec } of all) {
    const words = path.slice(1);
    const seen = words.map((w) => `__fish_seen_subcommand_from ${w}`);
    const notChild = spec.commands.length ? [`not __fish_seen_subcommand_from ${spec.commands.map((c) => c.name).join(' ')}`] : [];
    const cond = fq(words.length ? [...seen, ...notChild].join('; and ') : '__fish_use_subcommand');
    out.push('', `# ${path.join(' ')}`);
    for (const c of spec.commands) out.push(`complete -c scalectl -n ${cond} -f -a ${c.name} -d ${fq(line(c.description))}`);
    for (const o of spec.options) {
      const names = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      out.push(`complete -c scalectl -n ${cond} ${names}${o.value === undefined ? '' : ` -r ${fishValue(o.value)}`} -d ${fq(line(o.description))}`);
    }
    if (!spec.commands.length && spec.args.length) out.push(`complete -c scalectl -n ${cond} ${fishValue(argValue(spec))}`);
  }
  return out.join('\n') + '\n';
}

/** The completion script for a shell. */
export function renderCompletion(shell: CompletionShell, spec: CompletionSpec): string {
  const all = entries(spec);
  return shell === 'bash' ? renderBash(all) : shell === 'zsh' ? renderZsh(all) : renderFish(all);
}
