import type { APIRoute } from 'astro';
import { reportToMarkdown } from '../../../../lib/drill-report-render.ts';
import { callerOf, errorResponse } from '../../../../server/drill/http.ts';
import { getDrillService } from '../../../../server/drill/instance.ts';

export const prerender = false;

/** The report as a Markdown download. */
export const GET: APIRoute = async ({ params, request, cookies, url }) => {
  try {
    const service = getDrillService();
    const id = params.id ?? '';
    service.authorize(id, callerOf(request, cookies, url));
    const report = await service.report(id);
    return new Response(reportToMarkdown(report), {
      headers: { 'content-type': 'text/markdown; charset=utf-8', 'content-disposition': `attachment; filename="drill-${id}-report.md"`, 'cache-control': 'no-store' },
    });
  } catch (error) {
    return errorResponse(error);
  }
};
