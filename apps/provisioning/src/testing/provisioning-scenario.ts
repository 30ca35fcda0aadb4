import {
  ApprovalBreakGlassGranted,
  ApprovalRequestApproved,
  CatalogPublished,
  ConnectorDeprovisioned,
  ConnectorStateReported,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  IdentityOffboarded,
  IdentityUpserted,
  RequestWithdrawn,
  RevocationRequested,
  TimerFired,
  grantIdOf,
  registry as catalogue,
} from '@grantline/contracts';
import type { CredentialType, DeprovisionRequestedData, Envelope, EventDefinition, EventRegistry, ProvisionRequestedData } from '@grantline/contracts';

/** Builders for the events provisioning reacts to; every id is derived from the names passed in. */
export interface ScenarioOptions {
  readonly registry?: EventRegistry;
  readonly connectorId?: string;
  readonly entitlementId?: string;
  readonly groupRole?: string;
  readonly beneficiaryId?: string;
  readonly account?: string;
  readonly catalogVersion?: number;
  readonly time?: string;
  /** The entitlement is delivered as a credential of this kind (catalogue v2). */
  readonly credential?: Exclude<CredentialType, 'none'>;
  /** The beneficiary is a CI pipeline owned by this person (else a human). */
  readonly machineOwner?: string;
  /** The catalogue's system says leavers' accounts in it are deactivated (catalogue v3). */
  readonly deactivateLeaverAccounts?: boolean;
}

export const SCENARIO_TIME = '2026-01-10T09:00:00.000Z';
export const SCENARIO_EXPIRY = '2026-01-11T09:00:00.000Z';

export class ProvisioningScenario {
  readonly registry: EventRegistry;
  readonly connectorId: string;
  readonly entitlementId: string;
  readonly groupRole: string;
  readonly beneficiaryId: string;
  readonly account: string;
  private readonly catalogVersion: number;
  private readonly time: string;
  private readonly credential?: Exclude<CredentialType, 'none'>;
  private readonly machineOwner?: string;
  private readonly deactivateLeaverAccounts: boolean;

  constructor(options: ScenarioOptions = {}) {
    this.registry = options.registry ?? catalogue;
    this.connectorId = options.connectorId ?? 'postgres';
    this.entitlementId = options.entitlementId ?? 'ent-orders-read';
    this.groupRole = options.groupRole ?? 'grantline_orders_read';
    this.beneficiaryId = options.beneficiaryId ?? 'dev-ada';
    this.account = options.account ?? 'ada';
    this.catalogVersion = options.catalogVersion ?? 1;
    this.time = options.time ?? SCENARIO_TIME;
    this.credential = options.credential;
    this.machineOwner = options.machineOwner;
    this.deactivateLeaverAccounts = options.deactivateLeaverAccounts ?? false;
  }

  grantIdOf(requestId: string): string {
    return grantIdOf(requestId, this.entitlementId);
  }

  private encode<TData>(def: EventDefinition<string, TData>, data: TData, id: string, subject: string): Envelope<TData> {
    return this.registry.encode(this.registry.latestOf(def.name) as EventDefinition<string, TData>, data, {
      id,
      source: 'grantline/spec',
      time: this.time,
      subject,
      correlationid: subject,
      actor: { kind: 'service', id: 'spec' },
    });
  }

  catalog(id = `catalog-${this.catalogVersion}-${this.entitlementId}`): Envelope {
    return this.encode(
      CatalogPublished,
      {
        catalogVersion: this.catalogVersion,
        digest: 'a'.repeat(64),
        systems: [
          {
            systemId: `sys-${this.connectorId}`,
            name: 'Orders DB',
            connectorId: this.connectorId,
            ownerId: 'owner-1',
            environment: 'nonprod',
            ...(this.deactivateLeaverAccounts ? { deactivateLeaverAccounts: true } : {}),
          },
        ],
        entitlements: [
          {
            entitlementId: this.entitlementId,
            systemId: `sys-${this.connectorId}`,
            name: 'Orders read',
            externalRef: this.groupRole,
            sensitivity: 'low',
            environment: 'nonprod',
            ownerId: 'owner-1',
            privileges: ['read'],
            maxDuration: 'P30D',
            requestable: true,
            ...(this.credential ? { credential: { type: this.credential } } : {}),
          },
        ],
        accessPackages: [],
      },
      id,
      'catalog',
    );
  }

  identity(id = `identity-${this.beneficiaryId}`): Envelope {
    return this.encode(
      IdentityUpserted,
      {
        identity:
          this.machineOwner === undefined
            ? {
                kind: 'human',
                identityId: this.beneficiaryId,
                displayName: 'Ada Developer',
                status: 'active',
                attributes: { [`account.${this.connectorId}`]: this.account },
              }
            : {
                kind: 'ci_pipeline',
                identityId: this.beneficiaryId,
                displayName: 'Release pipeline',
                status: 'active',
                ownerId: this.machineOwner,
                attributes: { [`account.${this.connectorId}`]: this.account },
              },
      },
      id,
      this.beneficiaryId,
    );
  }

  approved(requestId: string, id = `approved-${requestId}`, expiresAt = SCENARIO_EXPIRY): Envelope {
    return this.encode(
      ApprovalRequestApproved,
      {
        requestId,
        beneficiaryId: this.beneficiaryId,
        grants: [{ grantId: this.grantIdOf(requestId), entitlementId: this.entitlementId, expiresAt }],
        basis: { kind: 'auto_approved', decisionId: `dec-${requestId}`, approvals: [] },
      },
      id,
      requestId,
    );
  }

  breakGlass(requestId: string, id = `break-glass-${requestId}`): Envelope {
    return this.encode(
      ApprovalBreakGlassGranted,
      {
        requestId,
        beneficiaryId: this.beneficiaryId,
        incidentRef: { system: 'other', id: 'INC-1' },
        grants: [{ grantId: this.grantIdOf(requestId), entitlementId: this.entitlementId, expiresAt: SCENARIO_EXPIRY }],
        reviewDueAt: SCENARIO_EXPIRY,
        decisionId: `dec-${requestId}`,
      },
      id,
      requestId,
    );
  }

  provisioned(command: ProvisionRequestedData, id = `provisioned-${command.commandId}`): Envelope {
    const { commandId, connectorId, grantId, idempotencyKey } = command;
    return this.encode(ConnectorProvisioned, { commandId, connectorId, grantId, idempotencyKey, completedAt: this.time, alreadyApplied: false }, id, grantId);
  }

  deprovisioned(command: DeprovisionRequestedData, id = `deprovisioned-${command.commandId}`): Envelope {
    const { commandId, connectorId, grantId, idempotencyKey } = command;
    return this.encode(ConnectorDeprovisioned, { commandId, connectorId, grantId, idempotencyKey, completedAt: this.time, alreadyApplied: false }, id, grantId);
  }

  failed(
    command: ProvisionRequestedData | DeprovisionRequestedData,
    operation: 'provision' | 'deprovision',
    errorClass: 'retriable' | 'terminal',
    id = `failed-${command.commandId}`,
  ): Envelope {
    const { commandId, connectorId, grantId, idempotencyKey } = command;
    return this.encode(
      ConnectorOperationFailed,
      {
        commandId,
        connectorId,
        grantId,
        idempotencyKey,
        operation,
        errorClass,
        code: errorClass === 'retriable' ? 'unavailable' : 'not_found',
        message: 'target said no',
        failedAt: this.time,
      },
      id,
      grantId,
    );
  }

  expired(grantId: string, id = `timer-${grantId}`): Envelope {
    return this.encode(
      TimerFired,
      { timerId: `grant_expiry:${grantId}`, kind: 'grant_expiry', dueAt: this.time, firedAt: this.time, target: { grantId } },
      id,
      grantId,
    );
  }

  withdrawn(requestId: string, id = `withdrawn-${requestId}`): Envelope {
    return this.encode(RequestWithdrawn, { requestId, withdrawnBy: this.beneficiaryId }, id, requestId);
  }

  revocation(target: { grantId: string } | { requestId: string }, id = 'revocation-1'): Envelope {
    return this.encode(RevocationRequested, { revocationId: id, requestedBy: 'sec-1', reason: 'no longer needed', ...target }, id, 'revocation');
  }

  /** The one page of a connector's report on its target: reachable, and holding the given assignments. */
  stateReported(assignments: readonly { targetAccount: string; entitlementRef: string }[] = [], id = 'report-1'): Envelope {
    return this.encode(
      ConnectorStateReported,
      { connectorId: this.connectorId, reportId: id, observedAt: this.time, page: 1, lastPage: true, assignments: [...assignments] },
      id,
      this.connectorId,
    );
  }

  offboarded(identityId = this.beneficiaryId, id = `offboarded-${identityId}`): Envelope {
    return this.encode(IdentityOffboarded, { identityId, kind: 'human', effectiveAt: this.time, reason: 'leaver', ownedIdentityIds: [] }, id, identityId);
  }
}
