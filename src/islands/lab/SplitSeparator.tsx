import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

/** The steps pane's share of the workspace's width, in percent. */
export const SPLIT = { min: 15, max: 65, default: 26, step: 2 } as const;
const STORAGE_KEY = 'irlab-lab-split';

const clamp = (value: number) => Math.min(SPLIT.max, Math.max(SPLIT.min, Math.round(value * 2) / 2));

function readSplit(): number {
  try {
    const stored = Number(localStorage.getItem(STORAGE_KEY));
    return stored ? clamp(stored) : SPLIT.default;
  } catch {
    return SPLIT.default;
  }
}

/** The split, remembered in localStorage across labs and reloads. */
export function useSplit(): [number, (value: number) => void] {
  const [value, setValue] = useState(readSplit);
  useEffect(() => {
    try {
      localStorage.setItem(STORAGE_KEY, String(value));
    } catch {
      // storage disabled: the split lasts for this page
    }
  }, [value]);
  return [value, useCallback((next: number) => setValue(clamp(next)), [])];
}

interface Props {
  value: number;
  onChange: (value: number) => void;
  /** The element whose width the percentage is of. */
  container: RefObject<HTMLElement | null>;
  /** Id of the pane it resizes. */
  controls: string;
}

/**
 * The divider between the steps and the workbench: a WAI-ARIA window splitter. Drag it with a
 * pointer; with the keyboard, arrows move it, Home and End go to the narrowest and widest steps;
 * a double-click (or Enter) puts it back where it started.
 */
export function SplitSeparator({ value, onChange, container, controls }: Props) {
  const dragging = useRef(false);
  const moveTo = (clientX: number) => {
    const box = container.current?.getBoundingClientRect();
    if (box && box.width > 0) onChange(((clientX - box.left) / box.width) * 100);
  };
  return (
    <div
      className="lab-separator"
      role="separator"
      tabIndex={0}
      aria-orientation="vertical"
      aria-label="Resize the steps pane"
      aria-controls={controls}
      aria-valuemin={SPLIT.min}
      aria-valuemax={SPLIT.max}
      aria-valuenow={Math.round(value)}
      aria-valuetext={`Steps ${Math.round(value)}% of the width`}
      onPointerDown={(event) => {
        if (event.button !== 0) return;
        dragging.current = true;
        event.currentTarget.setPointerCapture(event.pointerId);
        event.preventDefault(); // no text selection while dragging
      }}
      onPointerMove={(event) => dragging.current && moveTo(event.clientX)}
      onPointerUp={(event) => {
        dragging.current = false;
        event.currentTarget.releasePointerCapture(event.pointerId);
      }}
      onPointerCancel={() => (dragging.current = false)}
      onDoubleClick={() => onChange(SPLIT.default)}
      onKeyDown={(event) => {
        const next: Record<string, number> = {
          ArrowLeft: value - SPLIT.step,
          ArrowDown: value - SPLIT.step,
          ArrowRight: value + SPLIT.step,
          ArrowUp: value + SPLIT.step,
          Home: SPLIT.min,
          End: SPLIT.max,
          Enter: SPLIT.default,
        };
        if (!(event.key in next) || event.altKey || event.ctrlKey || event.metaKey) return;
        event.preventDefault();
        onChange(next[event.key]!);
      }}
    />
  );
}
