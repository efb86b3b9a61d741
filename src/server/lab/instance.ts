/**
 * The running server's lab service: content under IRLAB_ROOT (default: the working directory),
 * progress in the shared store, clusters from the embedded provider (or a warm pool once one
 * is configured), workspaces under the data directory where the terminal's shells live, and
 * IRLAB_LAB_PREPARED incidents per lab seeded ahead of time.
 */
import { marked } from 'marked';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { pooledClusters } from './cluster-source.ts';
import { dataDir, getStore } from '../store/index.ts';
import { validateProjectLabs, type LoadedLab } from './labs.ts';
import { labService, workspaceUnder, type ClusterSource, type LabService } from './service.ts';

// One service per process, although serve.ts and Astro's bundled endpoints each load their own
// copy of this module: incidents seeded ahead of time at boot must be the ones Start hands out.
const SERVICE = Symbol.for('irlab.labService');
const slot = globalThis as { [SERVICE]?: LabService };
let labs: Promise<LoadedLab[]> | undefined;

/** IRLAB_LAB_PREPARED: incidents each lab keeps seeded ahead of time (default 1; 0 turns it off). */
export function preparedPerLab(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['IRLAB_LAB_PREPARED'];
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 10) throw new Error(`IRLAB_LAB_PREPARED=${JSON.stringify(raw)} is not a whole number from 0 to 10; set it to, for example, 1, or unset it`);
  return value;
}

export function contentRoot(): string {
  return process.env.IRLAB_ROOT || process.cwd();
}

async function loadLabs(root: string): Promise<LoadedLab[]> {
  const result = await validateProjectLabs(root);
  return result.labs;
}

export function defaultClusterSource(): ClusterSource {
  return pooledClusters(new EmbeddedProvider());
}

export function getLabService(clusters: ClusterSource = defaultClusterSource()): LabService {
  slot[SERVICE] ??= labService({
    store: getStore(),
    root: contentRoot(),
    // `irlab dev` sets IRLAB_CONTENT_LIVE so that a saved lab.yaml is served on the next request.
    labs: () => (process.env.IRLAB_CONTENT_LIVE === '1' ? loadLabs(contentRoot()) : (labs ??= loadLabs(contentRoot()))),
    clusters,
    workspaceOf: workspaceUnder(dataDir()),
    renderMarkdown: async (markdown) => marked.parse(markdown, { async: true }),
    preparedPerLab: preparedPerLab(),
  });
  return slot[SERVICE];
}
