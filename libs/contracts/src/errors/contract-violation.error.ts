import type { z } from 'zod';

export interface ContractIssue {
  /** Dotted path from the envelope root, e.g. `data.subject.id` or `type`; empty for the root itself. */
  path: string;
  message: string;
}

function formatIssues(issues: readonly ContractIssue[]): string {
  return issues.map((issue) => `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`).join('; ');
}

/** Raised when an envelope or its data breaks the contract; the message names every bad field. */
export class ContractViolationError extends Error {
  readonly issues: ContractIssue[];
  readonly eventType?: string;

  constructor(issues: ContractIssue[], eventType?: string) {
    super(`${eventType ?? 'event'} is invalid: ${formatIssues(issues)}`);
    this.name = 'ContractViolationError';
    this.issues = issues;
    if (eventType !== undefined) this.eventType = eventType;
  }
}

/**
 * Flattens zod issues into dotted paths under a prefix. An unrecognised key is reported at the key's own
 * path (`data.password`), not at its parent, so the message names the offending field.
 */
export function toContractIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): ContractIssue[] {
  const join = (path: readonly PropertyKey[]): string => [...prefix, ...path].map(String).join('.');
  return error.issues.flatMap((issue): ContractIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: join([...issue.path, key]), message: 'Unrecognized key' }));
    }
    return [{ path: join(issue.path), message: issue.message }];
  });
}
