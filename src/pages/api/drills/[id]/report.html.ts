import type { APIRoute } from 'astro';
import { reportToHtml } from '../../../../lib/drill-report-render.ts';
import { callerOf, errorResponse } from '../../../../server/drill/http.ts';
import { getDrillService } from '../../../../server/drill/instance.ts';

export const prerender = false;

/** The report as one self-contained HTML file (inline CSS with a print stylesheet, no scripts, no external requests). */
export const GET: APIRoute = async ({ params, request, cookies, url }) => {
  try {
    const service = getDrillService();
    const id = params.id ?? '';
    service.authorize(id, callerOf(request, cookies, url));
    const report = await service.report(id);
    return new Response(reportToHtml(report), {
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-disposition': `attachment; filename="drill-${id}-report.html"`,
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        'cache-control': 'no-store',
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
};
