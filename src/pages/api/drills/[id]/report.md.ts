import { reportToMarkdown } from '../../../../lib/drill-report-render.ts';
import { reportDownload } from '../../../../server/drill/http.ts';

export const prerender = false;

/** The report as a Markdown download. */
export const GET = reportDownload('md', reportToMarkdown, { 'content-type': 'text/markdown; charset=utf-8' });
