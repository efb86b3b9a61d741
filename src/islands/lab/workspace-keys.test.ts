import { describe, expect, it } from 'vitest';
import { workspaceShortcut } from './workspace-keys.ts';

const key = (code: string, mods: Partial<Record<'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey', boolean>> = {}, type = 'keydown') => ({ type, code, altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });

describe('workspace shortcuts', () => {
  it('maps Alt+0…5 to the panes and Alt+/ to the help', () => {
    expect(workspaceShortcut(key('Digit0', { altKey: true }))).toEqual({ kind: 'pane', pane: 'steps' });
    expect(workspaceShortcut(key('Digit1', { altKey: true }))).toEqual({ kind: 'pane', pane: 'terminal' });
    expect(workspaceShortcut(key('Digit2', { altKey: true }))).toEqual({ kind: 'pane', pane: 'terminal2' });
    expect(workspaceShortcut(key('Numpad5', { altKey: true }))).toEqual({ kind: 'pane', pane: 'notes' });
    expect(workspaceShortcut(key('Slash', { altKey: true }))).toEqual({ kind: 'help' });
    expect(workspaceShortcut(key('Slash', { altKey: true, shiftKey: true }))).toEqual({ kind: 'help' });
  });

  it('leaves every other key to the shell: plain digits, Ctrl/Meta combos, key-up, Alt+6', () => {
    for (const event of [key('Digit1'), key('Digit1', { altKey: true, ctrlKey: true }), key('Digit1', { altKey: true, metaKey: true }), key('Digit1', { altKey: true }, 'keyup'), key('Digit6', { altKey: true }), key('KeyB', { altKey: true }), key('Digit1', { altKey: true, shiftKey: true })]) {
      expect(workspaceShortcut(event)).toBeNull();
    }
  });
});
