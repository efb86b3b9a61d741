/// <reference types="astro/client" />
import type { Services } from './server/app/services.ts';

// What serve.ts hands every page and endpoint (the Node adapter's middleware mode passes it as
// `locals`): the one set of services of the process (src/server/app/services.ts).
declare global {
  namespace App {
    interface Locals {
      services: Services;
      /** The request's client address (src/server/http/client-address.ts), set by the HTTP server. */
      clientAddress?: string | undefined;
      /** On a cell: the learner a front's signed instructor watch is for (src/server/cells/cell-gate.ts). */
      watching?: string | undefined;
    }
  }
}
