/** The class pages' calls to /api/classes (browser side): JSON in, JSON out, the server's reason as the error. */
export async function classApi<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(data.error ?? `The server answered ${response.status}.`);
  return data;
}
