import { reportToHtml } from '../../../../lib/drill-report-render.ts';
import { reportDownload } from '../../../../server/drill/http.ts';

export const prerender = false;

/** The report as one self-contained HTML file (inline CSS with a print stylesheet, no scripts, no external requests). */
export const GET = reportDownload('html', reportToHtml, {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
});
