/**
 * A short Markdown summary of one audit event, for pinning it to the case notes (labs) or the
 * incident log (drills): what an investigator would copy by hand. The first line is plain text
 * (the incident log uses it as the entry's title). Pure, shared by the browser.
 */

// Audit events are free-form JSON; the summary reads them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ev = Record<string, any>;

const MAX_URI = 400;

/** A Markdown code span that holds any text: the fence is longer than any run of backticks in it. */
export function codeSpan(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

const clean = (value: unknown): string => (value === undefined || value === null ? '' : String(value).replace(/[\r\n]+/g, ' ').trim());

/** The resource an event acted on: `secrets`, `pods/exec`, `production/web-app-1`... */
export function eventTarget(event: Ev): string {
  const ref = event.objectRef as Ev | undefined;
  if (!ref) return '';
  const resource = [ref.resource, ref.subresource].filter(Boolean).join('/');
  const name = [ref.namespace, ref.name].filter(Boolean).join('/');
  return [resource, name].filter(Boolean).join(' ');
}

export function eventSummaryMarkdown(event: Ev): string {
  const time = clean(event.requestReceivedTimestamp ?? event.stageTimestamp).replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  const user = clean(event.user?.username) || 'unknown user';
  const impersonated = clean(event.impersonatedUser?.username);
  const verb = clean(event.verb);
  const target = eventTarget(event);
  let uri = clean(event.requestURI);
  if (uri.length > MAX_URI) uri = `${uri.slice(0, MAX_URI)}…`;
  const code = clean(event.responseStatus?.code);
  const lines = [
    `Audit event ${time ? `at ${time}` : '(no time recorded)'}`,
    `- user: ${codeSpan(user)}${impersonated ? ` acting as ${codeSpan(impersonated)}` : ''}`,
    `- ${verb ? codeSpan(verb) : 'unknown verb'}${target ? ` ${codeSpan(target)}` : ''}`,
    ...(uri ? [`- requestURI: ${codeSpan(uri)}`] : []),
    `- response: ${code || 'none recorded'}`,
    ...(Array.isArray(event.sourceIPs) && event.sourceIPs.length ? [`- from: ${codeSpan(event.sourceIPs.map(clean).join(', '))}`] : []),
    `- auditID: ${codeSpan(clean(event.auditID) || 'none')}`,
  ];
  return lines.join('\n');
}
