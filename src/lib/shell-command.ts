/**
 * Which code blocks of a lab's step text or hints are commands a learner can copy or run, and
 * the text to send. Authors mark them by the fence's language (docs/labs.md):
 *
 * - ```sh (also shell, bash): the whole block is what to type; a leading `$ ` prompt on a line
 *   is dropped.
 * - ```console (also shell-session): a transcript; only the lines after a `$ ` prompt (and the
 *   lines a trailing backslash continues) are typed, the output is not.
 *
 * Any other block (yaml, json, text, none) is something to read, never a command. Pure, so the
 * browser and the tests share it.
 */

const SCRIPT = new Set(['sh', 'shell', 'bash']);
const TRANSCRIPT = new Set(['console', 'shell-session']);
const PROMPT = /^\$ ?/;

/** The language of a `<code class="language-x">` (marked's rendering of a fenced block). */
export function fenceLanguage(className: string): string | undefined {
  return /(?:^|\s)language-([\w-]+)/.exec(className)?.[1]?.toLowerCase();
}

/** The command a code block holds, ready to copy or run, or undefined when it holds none. */
export function commandOf(language: string | undefined, text: string): string | undefined {
  if (!language) return undefined;
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  let command: string[];
  if (SCRIPT.has(language)) {
    command = lines.map((line) => line.replace(/^\$ /, ''));
  } else if (TRANSCRIPT.has(language)) {
    command = [];
    let continued = false;
    for (const line of lines) {
      if (continued || /^\$( |$)/.test(line)) {
        const typed = continued ? line : line.replace(PROMPT, '');
        command.push(typed);
        continued = /\\$/.test(typed);
      }
    }
  } else {
    return undefined;
  }
  const joined = command.join('\n').replace(/^\n+|\s+$/g, '');
  return joined.trim() ? joined : undefined;
}

/** How many commands the text runs (lines that are not continuations, comments or blank). */
export function commandLines(command: string): number {
  let count = 0;
  let continued = false;
  let heredoc: string | undefined;
  for (const line of command.split('\n')) {
    if (heredoc !== undefined) {
      if (line.trim() === heredoc) heredoc = undefined;
      continue;
    }
    if (!continued && line.trim() && !line.trim().startsWith('#')) count += 1;
    continued = /\\$/.test(line);
    heredoc = /<<-?\s*['"]?(\w+)['"]?/.exec(line)?.[1];
  }
  return count;
}

/**
 * Whether the command has a `<placeholder>` for the learner to fill in: such a command is typed
 * at the prompt without Enter (bash would read `<name>` as a redirection).
 */
export function hasPlaceholder(command: string): boolean {
  return /<[A-Za-z][\w .:-]*>/.test(command);
}
