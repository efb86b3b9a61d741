import { useEffect, useState } from 'react';
import { flattenToc, type TocEntry } from '../lib/toc.ts';
import { useReadingStore } from '../stores/reading-store.ts';

interface Props {
  lesson: string;
  toc: TocEntry[];
}

/**
 * The lesson's table of contents. Rendered on the server as plain links (works without
 * JavaScript); once hydrated it marks the section in view and the sections already read.
 */
export default function TableOfContents({ lesson, toc }: Props) {
  const activeSlug = useReadingStore((s) => s.activeSlug);
  const seen = useReadingStore((s) => s.seen[lesson]);
  const setActive = useReadingStore((s) => s.setActive);
  // localStorage is only readable after hydration; render the server's markup until then.
  const [hydrated, setHydrated] = useState(false);

  useEffect(() => {
    setHydrated(true);
    const headings = flattenToc(toc)
      .map((slug) => document.getElementById(slug))
      .filter((el): el is HTMLElement => el !== null);
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries.filter((e) => e.isIntersecting).sort((a, b) => a.boundingClientRect.top - b.boundingClientRect.top);
        const first = visible[0];
        if (first) setActive(lesson, first.target.id);
      },
      { rootMargin: '0px 0px -70% 0px' },
    );
    headings.forEach((h) => observer.observe(h));
    return () => observer.disconnect();
  }, [lesson, toc, setActive]);

  const renderEntries = (entries: TocEntry[]) => (
    <ol>
      {entries.map((entry) => {
        const current = hydrated && entry.slug === activeSlug;
        const read = hydrated && (seen?.includes(entry.slug) ?? false);
        return (
          <li key={entry.slug} className={read ? 'read' : undefined}>
            <a href={`#${entry.slug}`} aria-current={current ? 'location' : undefined}>
              {entry.text}
              {read && !current ? <span className="visually-hidden"> (read)</span> : null}
            </a>
            {entry.children.length > 0 ? renderEntries(entry.children) : null}
          </li>
        );
      })}
    </ol>
  );

  return (
    <nav className="toc" aria-labelledby="toc-title">
      <h2 id="toc-title">On this page</h2>
      {renderEntries(toc)}
    </nav>
  );
}
