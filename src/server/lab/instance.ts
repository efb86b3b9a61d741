/**
 * The running server's lab service: content under IRLAB_ROOT (default: the working directory),
 * progress in the shared store, clusters from the embedded provider (or a warm pool once one
 * is configured), workspaces under the data directory where the terminal's shells live.
 */
import { marked } from 'marked';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { pooledClusters } from './cluster-source.ts';
import { validateLessons } from '../content/lessons.ts';
import { dataDir, getStore } from '../store/index.ts';
import { validateScenarios } from '../scenarios/load.ts';
import { validateLabs, type LoadedLab } from './labs.ts';
import { labService, workspaceUnder, type ClusterSource, type LabService } from './service.ts';

let service: LabService | undefined;
let labs: Promise<LoadedLab[]> | undefined;

export function contentRoot(): string {
  return process.env.IRLAB_ROOT || process.cwd();
}

async function loadLabs(root: string): Promise<LoadedLab[]> {
  const lessons = await validateLessons(root);
  const scenarios = await validateScenarios(root);
  const result = await validateLabs(root, { lessons: lessons.lessons.map((l) => l.slug), scenarios: scenarios.scenarios.map((s) => s.slug) });
  return result.labs;
}

export function defaultClusterSource(): ClusterSource {
  return pooledClusters(new EmbeddedProvider());
}

export function getLabService(clusters: ClusterSource = defaultClusterSource()): LabService {
  service ??= labService({
    store: getStore(),
    root: contentRoot(),
    // `irlab dev` sets IRLAB_CONTENT_LIVE so that a saved lab.yaml is served on the next request.
    labs: () => (process.env.IRLAB_CONTENT_LIVE === '1' ? loadLabs(contentRoot()) : (labs ??= loadLabs(contentRoot()))),
    clusters,
    workspaceOf: workspaceUnder(dataDir()),
    renderMarkdown: async (markdown) => marked.parse(markdown, { async: true }),
  });
  return service;
}
