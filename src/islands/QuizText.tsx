import type { ReactNode } from 'react';

/** Quiz text with `inline code` in backticks rendered as code; everything else stays plain text. */
export default function QuizText({ text }: { text: string }): ReactNode {
  const parts = text.split(/(`[^`]+`)/g);
  return (
    <>
      {parts.map((part, i) => (part.length > 2 && part.startsWith('`') && part.endsWith('`') ? <code key={i}>{part.slice(1, -1)}</code> : part))}
    </>
  );
}
