/**
 * Endpoint plumbing for labs: JSON in and out, a lab error (LabError, ClusterError: branded with
 * their status) as its status and reason, anything else a
 * 500 that says where to look.
 */
import type { LabService } from './service.ts';
import { errorResponse, json, readJsonObject } from '../http/endpoint.ts';

export const readBody = (request: Request): Promise<Record<string, unknown>> => readJsonObject(request, 16 * 1024);

export async function labRespond(service: LabService, run: (service: LabService) => Promise<unknown>): Promise<Response> {
  try {
    return json(await run(service));
  } catch (error) {
    return errorResponse(error, 'lab endpoint', 'the lab service failed');
  }
}
