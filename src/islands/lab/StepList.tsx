import type { LabView } from '../../lib/lab-view.ts';
import { Step } from './Step.tsx';

/** The lab's steps, in order, in the workspace's steps pane. */
export function StepList({ lab, running }: { lab: LabView; running: boolean }) {
  return (
    <ol className="lab-steps">
      {lab.steps.map((step, index) => (
        <Step key={step.id} step={step} index={index} running={running} />
      ))}
    </ol>
  );
}
