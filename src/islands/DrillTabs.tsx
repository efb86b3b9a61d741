import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface DrillTab {
  id: string;
  label: string;
  /** Rendered while this tab is selected and kept mounted after (a hidden terminal keeps its connection). */
  render: () => ReactNode;
  /** True when the pane starts with something focusable (then the pane itself is not a Tab stop). */
  focusableStart?: boolean;
}

/**
 * WAI-ARIA tabs (automatic activation): arrow keys, Home and End move between tabs, Tab goes into
 * the open pane. Panes mount when first shown and stay mounted, hidden, after.
 */
export function DrillTabs({ label, tabs, selected, onSelect, shown }: { label: string; tabs: DrillTab[]; selected: string; onSelect: (id: string) => void; shown: ReadonlySet<string> }) {
  const list = useRef<HTMLDivElement>(null);
  const move = (event: KeyboardEvent, index: number) => {
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const tab = tabs[(next + tabs.length) % tabs.length]!;
    onSelect(tab.id);
    list.current?.querySelector<HTMLElement>(`#drill-tab-${tab.id}`)?.focus();
  };
  return (
    <div className="drill-tabs">
      <div role="tablist" aria-label={label} ref={list} className="drill-tablist">
        {tabs.map((tab, index) => (
          <button
            key={tab.id}
            type="button"
            role="tab"
            id={`drill-tab-${tab.id}`}
            aria-selected={selected === tab.id}
            aria-controls={`drill-pane-${tab.id}`}
            tabIndex={selected === tab.id ? 0 : -1}
            onClick={() => onSelect(tab.id)}
            onKeyDown={(e) => move(e, index)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {tabs.map((tab) => (
        <div
          key={tab.id}
          role="tabpanel"
          id={`drill-pane-${tab.id}`}
          aria-labelledby={`drill-tab-${tab.id}`}
          hidden={selected !== tab.id}
          tabIndex={tab.focusableStart ? undefined : 0}
          className="drill-pane"
        >
          {(selected === tab.id || shown.has(tab.id)) && tab.render()}
        </div>
      ))}
    </div>
  );
}
