import { ContractViolationError } from '../errors/contract-violation.error';
import { fixtureMeta } from '../fixtures/event.fixtures';
import { registry } from '../registry/catalogue';
import { ItsmRequestReceived } from './itsm.schema';
import { ServiceNowCatalogItemSchema, mapServiceNowCatalogItem } from './servicenow-catalog-item.schema';

/** A requested item as the ServiceNow Table API returns it with `sysparm_display_value=all`. */
function requestedItem(variables: Record<string, string> = {}): Record<string, unknown> {
  return {
    sys_id: '9d385017c611228701d22104cc95c371',
    number: 'RITM0010001',
    cat_item: { value: '04b7e94b4f7b4200086eeed18110c7fd', display_value: 'Grantline access request' },
    requested_for: { value: 'alice', display_value: 'Alice Example', link: 'https://example.service-now.com/api/now/table/sys_user/alice' },
    opened_by: 'bob',
    short_description: 'Access to orders DB',
    sys_created_on: '2025-03-01 09:00:00',
    state: '1',
    variables: {
      entitlements: 'ent-pg-orders-read, ent-pg-orders-write',
      justification: 'Quarter-end reporting',
      duration: '8',
      emergency: 'false',
      ...variables,
    },
  };
}

describe('mapServiceNowCatalogItem', () => {
  it('given a requested item, when mapped, then it becomes a valid generic ITSM request', () => {
    const mapped = mapServiceNowCatalogItem(requestedItem(), { instanceUrl: 'https://example.service-now.com/' });

    expect(mapped).toEqual({
      ticket: {
        system: 'servicenow',
        id: 'RITM0010001',
        url: 'https://example.service-now.com/nav_to.do?uri=sc_req_item.do%3Fsys_id%3D9d385017c611228701d22104cc95c371',
      },
      requesterId: 'bob',
      subject: { id: 'alice', kind: 'human' },
      items: { entitlementIds: ['ent-pg-orders-read', 'ent-pg-orders-write'] },
      justification: 'Quarter-end reporting',
      duration: 'PT8H',
      openedAt: '2025-03-01T09:00:00Z',
    });
    expect(() => registry.encode(ItsmRequestReceived, mapped, fixtureMeta({ subject: 'RITM0010001' }))).not.toThrow();
  });

  it('given a service-account beneficiary, an access package, an end date and break-glass, when mapped, then all of them carry over', () => {
    const mapped = mapServiceNowCatalogItem(
      requestedItem({
        beneficiary: 'svc-orders-exporter',
        beneficiary_kind: 'service_account',
        entitlements: '',
        access_package: 'pkg-orders-analyst',
        duration: '',
        end_date: '2025-03-02 09:00:00',
        emergency: 'true',
        incident_number: 'INC0012345',
      }),
    );

    expect(mapped).toMatchObject({
      subject: { id: 'svc-orders-exporter', kind: 'service_account' },
      items: { accessPackageId: 'pkg-orders-analyst' },
      endsAt: '2025-03-02T09:00:00Z',
      emergency: { breakGlass: true, incidentRef: { system: 'servicenow', id: 'INC0012345' } },
    });
    expect(mapped.duration).toBeUndefined();
  });

  it('given an identity resolver, when mapped, then user references go through it', () => {
    const mapped = mapServiceNowCatalogItem(requestedItem(), {
      identityOf: (reference) => `snow:${typeof reference === 'string' ? reference : reference.value}`,
    });

    expect([mapped.requesterId, mapped.subject.id]).toEqual(['snow:bob', 'snow:alice']);
  });

  it('given a bad sys_id, when mapped, then the error names sys_id', () => {
    const error = (() => {
      try {
        mapServiceNowCatalogItem({ ...requestedItem(), sys_id: 'nope' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(ContractViolationError);
    expect((error as ContractViolationError).issues.map((issue) => issue.path)).toEqual(['sys_id']);
  });

  it('given break-glass without an incident number, when mapped, then the error names the incident reference', () => {
    expect(() => mapServiceNowCatalogItem(requestedItem({ emergency: 'true' }))).toThrow(/emergency\.incidentRef\.id/);
  });

  it('given both entitlements and an access package, when mapped, then it is rejected at items', () => {
    expect(() => mapServiceNowCatalogItem(requestedItem({ access_package: 'pkg-orders-analyst' }))).toThrow(/servicenow RITM0010001 is invalid: items/);
  });

  it('given an ISO duration variable, when mapped, then it is kept as is; a bad one is named', () => {
    expect(mapServiceNowCatalogItem(requestedItem({ duration: 'P7D' })).duration).toBe('P7D');
    expect(() => mapServiceNowCatalogItem(requestedItem({ duration: 'a week' }))).toThrow(/duration: Invalid ISO-8601 duration/);
  });

  it('given the payload schema, then unknown ServiceNow fields are tolerated and kept', () => {
    const parsed = ServiceNowCatalogItemSchema.parse(requestedItem());

    expect(parsed['state']).toBe('1');
  });
});
