import { useState } from 'react';
import { commandLines, hasPlaceholder } from '../../lib/shell-command.ts';
import { useTerminalInput } from '../../stores/terminal-input.ts';
import { useAnnounce } from './announce.ts';

/** Writes to the clipboard: the Clipboard API, else a selected textarea and execCommand (plain HTTP). */
async function copyText(text: string): Promise<boolean> {
  try {
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied or unfocused: try the old way.
  }
  const active = document.activeElement as HTMLElement | null;
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  let copied: boolean;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  active?.focus();
  return copied;
}

const shortly = (command: string) => {
  const first = command.split('\n')[0]!;
  return first.length > 60 ? `${first.slice(0, 57)}…` : first;
};

/** Copy and Run-in-terminal for one command block of a step or hint. */
export function CommandActions({ command, code, running }: { command: string; code: HTMLElement; running: boolean }) {
  const announce = useAnnounce();
  const [copied, setCopied] = useState(false);
  const lines = commandLines(command);
  const what = shortly(command);
  // A <placeholder> waits at the prompt for the learner to fill in; everything else runs.
  const fill = hasPlaceholder(command);
  const verb = fill ? 'Paste in terminal' : 'Run in terminal';
  // Lines after the first would run as they arrive, placeholders and all: copy only.
  const typable = !(fill && command.includes('\n'));
  return (
    <>
      <button
        type="button"
        className="command-copy"
        aria-label={`${copied ? 'Copied' : 'Copy'} ${what}`}
        onClick={async () => {
          if (await copyText(command)) {
            setCopied(true);
            announce(`Copied to the clipboard: ${what}`);
          } else {
            // Nothing could write the clipboard: leave the command selected for Ctrl+C.
            window.getSelection()?.selectAllChildren(code);
            announce('Could not copy: the command is selected, press Ctrl+C (or Cmd+C) to copy it');
          }
        }}
        onBlur={() => setCopied(false)}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
      {typable && (
        <button
          type="button"
          className="command-run"
          aria-label={`${verb}: ${what}`}
          title={!running ? 'Start the lab to get a terminal' : fill ? 'Types the command at your terminal\'s prompt without Enter: fill in the <placeholders>, then press Enter' : lines > 1 ? `Types these ${lines} commands into your terminal, one after another` : 'Types this command into your terminal and presses Enter'}
          disabled={!running}
          onClick={() => {
            useTerminalInput.getState().send(command, !fill);
            announce(fill ? `Typed at the terminal's prompt, fill in the placeholders: ${what}` : `Sent to the terminal: ${what}`);
          }}
        >
          {verb}
        </button>
      )}
    </>
  );
}
