/** Every check a lab may name, by name. Labs are validated against this list. */
import type { Check } from '../check.ts';
import { auditPolicyCheck } from './audit-policy.ts';
import { eradicationCheck } from './eradication.ts';
import { evidenceCheck } from './evidence.ts';
import { investigationCheck } from './investigation.ts';
import { nodeEvidenceCheck, nodeIsolationCheck, nodeRevocationCheck } from './node-escape.ts';
import { quarantineCheck } from './quarantine.ts';
import { scopeCheck } from './scope.ts';
import { tokenRevocationCheck } from './token-revocation.ts';

export const CHECKS: ReadonlyMap<string, Check> = new Map(
  [auditPolicyCheck, quarantineCheck, evidenceCheck, investigationCheck, scopeCheck, eradicationCheck, tokenRevocationCheck, nodeIsolationCheck, nodeEvidenceCheck, nodeRevocationCheck].map((check) => [check.name, check]),
);
