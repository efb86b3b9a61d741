/**
 * The lab workspace's panes and keyboard shortcuts. Shortcuts use Alt with a digit or `/`, which
 * browsers leave alone and bash needs only for readline's rarely used digit arguments and `M-/`
 * (filename completion, which Tab does too), so they work from inside the terminal: the terminal
 * lets them through (`passKey`) and the workspace acts on them. Matched on `event.code`, so they
 * are the same keys on every layout and on macOS, where Option+digit types a character.
 */

export type TabId = 'steps' | 'terminal' | 'terminal2' | 'audit' | 'files' | 'notes';

export interface TabSpec {
  id: TabId;
  label: string;
  /** What `aria-keyshortcuts` and the help overlay say. */
  keys: string;
}

/** The workspace's tabs, in order; Steps is a tab only on a narrow screen (otherwise its own pane). */
export const TABS: readonly TabSpec[] = [
  { id: 'steps', label: 'Steps', keys: 'Alt+0' },
  { id: 'terminal', label: 'Terminal', keys: 'Alt+1' },
  { id: 'terminal2', label: 'Terminal 2', keys: 'Alt+2' },
  { id: 'audit', label: 'Audit log', keys: 'Alt+3' },
  { id: 'files', label: 'Files', keys: 'Alt+4' },
  { id: 'notes', label: 'Notes', keys: 'Alt+5' },
];

export type WorkspaceAction = { kind: 'pane'; pane: TabId } | { kind: 'help' };

type KeyLike = Pick<KeyboardEvent, 'type' | 'code' | 'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey'>;

/** The workspace action a key press asks for, or null for a key that belongs to whoever has focus. */
export function workspaceShortcut(event: KeyLike): WorkspaceAction | null {
  if (event.type !== 'keydown' || !event.altKey || event.ctrlKey || event.metaKey) return null;
  const digit = /^(?:Digit|Numpad)([0-5])$/.exec(event.code);
  if (digit && !event.shiftKey) return { kind: 'pane', pane: TABS[Number(digit[1])]!.id };
  if (event.code === 'Slash') return { kind: 'help' };
  return null;
}

/** Every shortcut, for the help overlay (docs/terminal.md lists the same). */
export const SHORTCUTS: ReadonlyArray<{ keys: string; what: string }> = [
  { keys: 'Alt+0', what: 'Steps: go to the steps (leaves the terminal)' },
  ...TABS.slice(1).map((tab) => ({ keys: tab.keys, what: `${tab.label} tab` })),
  { keys: 'Alt+/', what: 'This help' },
  { keys: 'Shift+Tab', what: 'Leave the terminal to the previous control' },
  { keys: '← → Home End', what: 'On a tab: the previous, next, first or last tab' },
  { keys: '← → Home End', what: 'On the divider: narrower or wider steps; double-click resets it' },
  { keys: 'Ctrl+Shift+F', what: 'Find in the terminal’s output' },
];
