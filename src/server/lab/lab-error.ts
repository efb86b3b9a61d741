/** What a lab request did wrong or could not do, with the HTTP status it answers (error-status.ts). */
import { brandStatus } from '../../lib/error-status.ts';

export class LabError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'LabError';
    this.status = status;
    brandStatus(this, status);
  }
}
