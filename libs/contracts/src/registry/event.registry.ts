import { EnvelopeSchema, fromCloudEvent } from '../envelope/envelope.schema';
import type { Envelope, EnvelopeMeta } from '../envelope/envelope.schema';
import { ContractViolationError, toContractIssues } from '../errors/contract-violation.error';
import { UnknownEventTypeError } from '../errors/unknown-event-type.error';
import type { EventDefinition } from './event-definition';

/** Turns the data of version N-1 into the data of version N. Pure: no clock, no lookups. */
export type Upcaster = (previousData: unknown) => unknown;

export interface DecodeOptions {
  /** false keeps the event at the version it was written in (for audit display and round-trip tests). */
  upcast?: boolean;
}

function typeOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const type: unknown = (raw as Record<string, unknown>)['type'];
  return typeof type === 'string' ? type : undefined;
}

export class EventRegistry {
  private readonly byType = new Map<string, EventDefinition>();
  private readonly versionsByName = new Map<string, Map<number, EventDefinition>>();
  private readonly upcasters = new Map<string, Upcaster>();

  /** Registers a definition; `upcastFromPrevious` turns the data of version-1 into this version's data. */
  register(def: EventDefinition, upcastFromPrevious?: Upcaster): this {
    if (this.byType.has(def.type)) throw new Error(`Event type already registered: ${def.type}`);
    if (upcastFromPrevious !== undefined && def.version === 1) {
      throw new Error(`${def.type}: version 1 has no previous version to upcast from`);
    }
    const versions = this.versionsByName.get(def.name) ?? new Map<number, EventDefinition>();
    if (def.version > 1 && versions.has(def.version - 1) && upcastFromPrevious === undefined) {
      throw new Error(`${def.type}: an upcaster from v${def.version - 1} is required`);
    }
    versions.set(def.version, def);
    this.versionsByName.set(def.name, versions);
    this.byType.set(def.type, def);
    if (upcastFromPrevious !== undefined) this.upcasters.set(def.type, upcastFromPrevious);
    return this;
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  definitionOf(type: string): EventDefinition {
    const def = this.byType.get(type);
    if (def === undefined) throw new UnknownEventTypeError(type);
    return def;
  }

  latestOf(name: string): EventDefinition {
    const versions = this.versionsByName.get(name);
    if (versions === undefined) throw new UnknownEventTypeError(name);
    const latest = Math.max(...versions.keys());
    return versions.get(latest) as EventDefinition;
  }

  /** Every registered definition, in registration order. */
  definitions(): EventDefinition[] {
    return [...this.byType.values()];
  }

  /**
   * Parses an unknown JSON value: validates the envelope, finds the definition by type, validates the data,
   * then upcasts step by step to the latest version of that event name (the type becomes the latest).
   */
  decode(raw: unknown, options: DecodeOptions = {}): Envelope {
    const envelope = EnvelopeSchema.safeParse(fromCloudEvent(raw));
    if (!envelope.success) throw new ContractViolationError(toContractIssues(envelope.error), typeOf(raw));
    const def = this.definitionOf(envelope.data.type);
    let current = def;
    let data = this.parseData(def, envelope.data.data, ['data']);
    if (options.upcast !== false) {
      const latest = this.latestOf(def.name);
      for (let version = def.version + 1; version <= latest.version; version += 1) {
        const next = this.versionsByName.get(def.name)?.get(version);
        const upcast = next === undefined ? undefined : this.upcasters.get(next.type);
        if (next === undefined || upcast === undefined) throw new Error(`${def.name}: no upcaster into v${version}`);
        // An upcaster producing invalid data is our bug, but it must still fail loudly, never pass bad data on.
        data = this.parseData(next, upcast(data), ['data']);
        current = next;
      }
    }
    return { ...envelope.data, type: current.type, data };
  }

  /** Builds and validates an envelope for a definition (specversion, type and datacontenttype filled in). */
  encode<TType extends string, TData>(def: EventDefinition<TType, TData>, data: TData, meta: EnvelopeMeta): Envelope<TData, TType> {
    if (this.byType.get(def.type) === undefined) throw new UnknownEventTypeError(def.type);
    const candidate = { ...meta, specversion: '1.0', type: def.type, datacontenttype: 'application/json', data };
    const envelope = EnvelopeSchema.safeParse(candidate);
    const dataResult = def.schema.safeParse(data);
    const issues = [...(envelope.success ? [] : toContractIssues(envelope.error)), ...(dataResult.success ? [] : toContractIssues(dataResult.error, ['data']))];
    if (!envelope.success || !dataResult.success) throw new ContractViolationError(issues, def.type);
    return { ...envelope.data, type: def.type, data: dataResult.data };
  }

  private parseData(def: EventDefinition, data: unknown, prefix: string[]): unknown {
    const result = def.schema.safeParse(data);
    if (!result.success) throw new ContractViolationError(toContractIssues(result.error, prefix), def.type);
    return result.data;
  }
}
