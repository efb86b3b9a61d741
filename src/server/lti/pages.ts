/**
 * The few HTML pages of the LTI routes: a refusal (what was wrong, what the LMS administrator
 * should check), the instructor's Deep Linking picker, and the page that posts the pick back to
 * the LMS. Served by irlab's own routes (the platform posts to them across sites), so they are
 * self-contained: inline styles, light and dark (the reader's theme choice through /theme.js), visible
 * focus, one hashed inline script.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_CSP } from '../http/security-headers.ts';
import type { ActivityChoice } from './lti-service.ts';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
:root[data-theme='light'] { color-scheme: light; }
:root[data-theme='dark'] { color-scheme: dark; }
body { margin: 0 auto; max-width: 44rem; padding: 1.5rem; background: light-dark(#fff, #16181d); color: light-dark(#1d2026, #e8eaee); }
h1 { font-size: 1.5rem; }
fieldset { border: 1px solid light-dark(#6b7280, #9ca3af); border-radius: 0.4rem; margin: 0 0 1rem; padding: 0.5rem 1rem 1rem; }
legend { font-weight: 600; padding: 0 0.3rem; }
label { display: flex; gap: 0.6rem; align-items: baseline; padding: 0.3rem 0; }
button { font: inherit; padding: 0.5rem 1.2rem; border-radius: 0.4rem; border: 0; background: light-dark(#1d4ed8, #93c5fd); color: light-dark(#fff, #111827); cursor: pointer; }
:focus-visible { outline: 3px solid light-dark(#b45309, #fbbf24); outline-offset: 2px; }
.fix { border-left: 4px solid light-dark(#b45309, #fbbf24); padding-left: 0.8rem; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · irlab</title><script src="/theme.js"></script><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

export function errorPage(message: string, fix: string): string {
  return page(
    'LTI launch refused',
    `<h1>irlab could not accept this launch from your LMS</h1>
<p><strong>What was wrong:</strong> ${escape(message)}.</p>
<p class="fix"><strong>What to check</strong> (your LMS administrator, or irlab's operator): ${escape(fix)}.</p>
<p>Nothing was changed. Launch the activity again from your course once this is fixed.</p>`,
  );
}

export function pickerPage(options: { pickToken: string; platformName: string; choices: ActivityChoice[]; acceptMultiple: boolean }): string {
  const type = options.acceptMultiple ? 'checkbox' : 'radio';
  const group = (kind: 'lab' | 'quiz', legend: string) => {
    const items = options.choices.filter((c) => c.kind === kind);
    if (!items.length) return '';
    const rows = items
      .map((c) => `<label><input type="${type}" name="activity" value="${escape(`${c.kind}:${c.slug}`)}"${type === 'radio' ? ' required' : ''}> <span>${escape(c.title)}</span></label>`)
      .join('\n');
    return `<fieldset><legend>${legend}</legend>\n${rows}\n</fieldset>`;
  };
  return page(
    'Add an irlab activity',
    `<h1>Add an irlab activity to your course</h1>
<p>Choose ${options.acceptMultiple ? 'the labs and quizzes' : 'the lab or quiz'} to add to ${escape(options.platformName)}. Learners who open the link are signed in to irlab as themselves, and their score is sent back to your gradebook when they finish.</p>
<form method="post" action="/lti/deep-link">
<input type="hidden" name="pick" value="${escape(options.pickToken)}">
${group('lab', 'Labs')}
${group('quiz', 'Quizzes')}
<button type="submit">Add to the course</button>
</form>`,
  );
}

const AUTOPOST_SCRIPT = "document.getElementById('return').submit();";
const AUTOPOST_HASH = createHash('sha256').update(AUTOPOST_SCRIPT).digest('base64');

/** The page that posts the signed response to the LMS, and its CSP (that one script, a form to that origin). */
export function autopostPage(returnUrl: string, jwt: string): { html: string; csp: string } {
  const html = page(
    'Returning to your LMS',
    `<h1>Returning to your LMS</h1>
<form id="return" method="post" action="${escape(returnUrl)}">
<input type="hidden" name="JWT" value="${escape(jwt)}">
<p>If your LMS does not open by itself, <button type="submit">continue to the LMS</button>.</p>
</form>
<script>${AUTOPOST_SCRIPT}</script>`,
  );
  const csp = DEFAULT_CSP.replace("script-src 'self'", `script-src 'self' 'sha256-${AUTOPOST_HASH}'`).replace("form-action 'self'", `form-action ${new URL(returnUrl).origin}`);
  return { html, csp };
}
