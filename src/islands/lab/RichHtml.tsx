import { useLayoutEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { commandOf, fenceLanguage } from '../../lib/shell-command.ts';
import { CommandActions } from './CommandActions.tsx';

interface Found {
  host: HTMLElement;
  code: HTMLElement;
  command: string;
}

/**
 * Server-rendered lab HTML (a step's text, a hint) with Copy and Run-in-terminal on each command
 * block (```sh or ```console, see shell-command.ts). The buttons are portals into a bar placed
 * after each block, so the author's HTML stays as the server rendered it.
 */
export function RichHtml({ html, className, running }: { html: string; className: string; running: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const [found, setFound] = useState<Found[]>([]);
  useLayoutEffect(() => {
    const root = ref.current;
    if (!root) return;
    // A block wider than its pane scrolls sideways: focusable, so the keyboard can scroll it too.
    for (const pre of root.querySelectorAll('pre')) pre.tabIndex = 0;
    const blocks: Found[] = [];
    for (const code of root.querySelectorAll<HTMLElement>('pre > code')) {
      const command = commandOf(fenceLanguage(code.className), code.textContent ?? '');
      if (!command) continue;
      const pre = code.parentElement!;
      pre.classList.add('command-block');
      const host = document.createElement('div');
      host.className = 'command-actions';
      pre.after(host);
      blocks.push({ host, code, command });
    }
    setFound(blocks);
    return () => {
      for (const block of blocks) block.host.remove();
    };
  }, [html]);
  return (
    <>
      <div ref={ref} className={className} dangerouslySetInnerHTML={{ __html: html }} />
      {found.map((block, i) => createPortal(<CommandActions command={block.command} code={block.code} running={running} />, block.host, `command-${i}`))}
    </>
  );
}
