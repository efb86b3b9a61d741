/** What a lab request did wrong or could not do, with the HTTP status it answers (error-status.ts). */
import { StatusError } from '../../lib/error-status.ts';

export class LabError extends StatusError {
  constructor(message: string, status = 400) {
    super(message, status);
    this.name = 'LabError';
  }
}
