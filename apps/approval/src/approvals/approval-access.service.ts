import { Injectable } from '@nestjs/common';
import { concealed, hasAnyRole } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import type { RequestApprovalState } from '../domain/approval.state';
import { ApprovalStateService } from './approval-state.service';

/** What an unknown request and one the caller may not see both answer: the same words, so ids cannot be probed. */
export const unknownRequestDetail = (requestId: string): string => `no approval state for request ${requestId}`;
/** Likewise for tasks. */
export const unknownTaskDetail = (taskId: string): string => `no approval task ${taskId}`;

const NOT_RELATED = 'not the requester, the beneficiary, their manager or NHI owner of record, or a current or past approver';

/**
 * Object-level authorization of approval requests and tasks (no BOLA). A request is visible to the people it
 * concerns — requester, beneficiary, the beneficiary's manager or the NHI's owner of record, anyone a task of it was
 * routed to or who answered one — and to security and auditors. Relations come from the request and the directory
 * folded from the log, never from the caller. Everyone else is told what an unknown request (or task) is told, and
 * the attempt is recorded.
 */
@Injectable()
export class ApprovalAccess {
  constructor(private readonly state: ApprovalStateService) {}

  /** The request's state when the caller may see it; a concealing 404 otherwise. */
  async visibleRequest(principal: Principal, requestId: string): Promise<RequestApprovalState> {
    await this.state.whenLoaded();
    const state = this.state.stateOf(requestId);
    const ref = `request:${requestId}`;
    if (state.seenEventIds.size === 0) throw concealed(principal, ref, unknownRequestDetail(requestId), 'unknown request');
    if (!this.maySee(principal, requestId)) throw concealed(principal, ref, unknownRequestDetail(requestId), NOT_RELATED);
    return state;
  }

  /** The request a task belongs to, when the caller may see that request; a concealing 404 otherwise. */
  async requestOfVisibleTask(principal: Principal, taskId: string): Promise<string> {
    await this.state.whenLoaded();
    const requestId = this.state.requestOfTask(taskId);
    const ref = `task:${taskId}`;
    if (requestId === undefined) throw concealed(principal, ref, unknownTaskDetail(taskId), 'unknown task');
    if (!this.maySee(principal, requestId)) throw concealed(principal, ref, unknownTaskDetail(taskId), NOT_RELATED);
    return requestId;
  }

  private maySee(principal: Principal, requestId: string): boolean {
    if (hasAnyRole(principal, ['security', 'auditor'])) return true;
    // A workload may be related too: a CI pipeline that asked for access for itself is its requester and beneficiary.
    return this.state.relationsTo(requestId, principal.subject).size > 0;
  }
}
