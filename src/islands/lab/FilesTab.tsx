/** The Files tab: the evidence in the learner's workspace, read-only. */
export function FilesTab() {
  return <p className="muted">The files you save in your workspace are listed here.</p>;
}
