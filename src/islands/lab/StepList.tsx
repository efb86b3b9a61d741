import { useCallback, useEffect, useState } from 'react';
import type { LabView } from '../../lib/lab-view.ts';
import '../../styles/lab-steps.css';
import { AnnounceContext } from './announce.ts';
import { Step } from './Step.tsx';
import { StepRail } from './StepRail.tsx';
import { firstOpenStep } from './step-status.ts';

function remembered(key: string): string | undefined {
  try {
    return sessionStorage.getItem(key) ?? undefined;
  } catch {
    return undefined; // storage off (private mode, policy): the first step not passed is current
  }
}

function remember(key: string, id: string): void {
  try {
    sessionStorage.setItem(key, id);
  } catch {
    // storage off or full: current again after a reload is the first step not passed
  }
}

/**
 * The steps pane: the progress rail, then the steps, the current one open and the others
 * collapsed. Current is the step the learner opened (heading, rail, previous/next), else the
 * first not passed when the page came; collapsing it keeps it current.
 */
export function StepList({ lab, running }: { lab: LabView; running: boolean }) {
  // The step the learner opened survives a reload of the tab (sessionStorage: this tab only).
  const memory = `irlab:lab-step:${lab.slug}`;
  const [chosen, setChosen] = useState<string | undefined>(() => remembered(memory));
  useEffect(() => {
    if (chosen) remember(memory, chosen);
  }, [memory, chosen]);
  const [collapsed, setCollapsed] = useState(false);
  const [focusOn, setFocusOn] = useState<string | undefined>();
  const [announcement, setAnnouncement] = useState('');
  // Taken once: the step open when the page came stays open when it passes (its feedback with it)
  // until the learner moves on.
  const [fallback] = useState(() => firstOpenStep(lab.steps));
  const current = chosen && lab.steps.some((s) => s.id === chosen) ? chosen : fallback;

  const go = useCallback((id: string) => {
    setChosen(id);
    setCollapsed(false);
    setFocusOn(id);
  }, []);
  // After a rail or previous/next press, the opened step's heading takes focus, in view.
  useEffect(() => {
    if (!focusOn) return;
    const toggle = document.getElementById(`step-${focusOn}-toggle`);
    toggle?.focus({ preventScroll: true });
    toggle?.scrollIntoView({ block: 'nearest' });
    setFocusOn(undefined);
  }, [focusOn]);
  // The same words twice are announced twice: the live region's text must change.
  const announce = useCallback((message: string) => setAnnouncement((old) => (old === message ? `${message}\u00a0` : message)), []);

  return (
    <AnnounceContext.Provider value={announce}>
      <div className="lab-steps-pane">
        <StepRail steps={lab.steps} current={current} onGo={go} />
        <ol className="lab-steps">
          {lab.steps.map((step, index) => (
            <Step
              key={step.id}
              step={step}
              index={index}
              count={lab.steps.length}
              running={running}
              open={step.id === current && !collapsed}
              onToggle={() => {
                if (step.id === current) setCollapsed((c) => !c);
                else {
                  setChosen(step.id);
                  setCollapsed(false);
                }
              }}
              onGo={(i) => go(lab.steps[i]!.id)}
              previous={lab.steps[index - 1]?.title}
              next={lab.steps[index + 1]?.title}
            />
          ))}
        </ol>
        <p className="visually-hidden" aria-live="polite">
          {announcement}
        </p>
      </div>
    </AnnounceContext.Provider>
  );
}
