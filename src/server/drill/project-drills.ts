/** The drills of a project (its scenarios' drill.yaml), validated with the labs they name. */
import { validateProjectLabs } from '../lab/labs.ts';
import { validateDrills, type LoadedDrill } from './load.ts';

export async function loadDrills(root: string): Promise<LoadedDrill[]> {
  const { labs, scenarioReport } = await validateProjectLabs(root);
  return (await validateDrills(root, { scenarios: scenarioReport.scenarios, labs })).drills;
}
