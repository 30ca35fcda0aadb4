import { EventLogReader } from './event-log.reader';
import { GrantlineClient } from './grantline.client';
import { deletePlatformData } from './platform-data';
import { ALL_SERVICES, Platform, stopStartedServices } from './platform.fixture';
import type { ServiceName } from './platform.fixture';
import { PostgresTarget } from './postgres.helper';

export interface ScenarioOptions {
  /** The services to start (default: all). */
  readonly services?: readonly ServiceName[];
  /** Connect to the PostgreSQL target and make sure these catalogue group roles exist there. */
  readonly groupRoles?: readonly string[];
  /** Connect a reader of the platform's own event log. */
  readonly eventLog?: boolean;
  /** Settings of individual services on top of the platform's (e.g. a short reconciliation period). */
  readonly env?: Readonly<Partial<Record<ServiceName, NodeJS.ProcessEnv>>>;
}

/** What a started scenario works with; `pg` and `log` exist only when the options asked for them. */
export interface ScenarioParts {
  readonly platform: Platform;
  readonly api: GrantlineClient;
  readonly pg: PostgresTarget;
  readonly log: EventLogReader;
}

/**
 * One spec file's platform and the connections it checks it through. Created in `describe`, started in
 * `beforeAll`, closed in `afterAll`: `close()` tears down whatever a start got as far as (a start that failed or
 * outlived its hook included), so no service or connection outlives the spec file.
 */
export class ScenarioHarness {
  private platform?: Platform;
  private pg?: PostgresTarget;
  private log?: EventLogReader;

  constructor(
    private readonly label: string,
    private readonly options: ScenarioOptions = {},
  ) {}

  async start(): Promise<ScenarioParts> {
    const platform = (this.platform = await Platform.start(this.label, this.options.services ?? ALL_SERVICES, this.options.env));
    const api = new GrantlineClient(platform);
    const roles = this.options.groupRoles;
    const pg = roles === undefined ? undefined : (this.pg = await PostgresTarget.connect());
    const log = this.options.eventLog === true ? (this.log = await EventLogReader.connect(platform)) : undefined;
    if (pg !== undefined && roles !== undefined) await pg.ensureGroupRoles(roles);
    const label = this.label;
    return {
      platform,
      api,
      // Getters, so a spec destructures only what it asked for and asking for the rest fails loudly.
      get pg(): PostgresTarget {
        if (pg === undefined) throw new Error(`scenario ${label} has no PostgreSQL target: pass groupRoles`);
        return pg;
      },
      get log(): EventLogReader {
        if (log === undefined) throw new Error(`scenario ${label} has no event log reader: pass eventLog: true`);
        return log;
      },
    };
  }

  async close(): Promise<void> {
    await this.log?.close();
    await this.pg?.close();
    await this.platform?.stop();
    await stopStartedServices();
    if (this.platform !== undefined) {
      // Cleanup that fails must not turn a passed scenario red, but it must be seen.
      await deletePlatformData(this.platform).catch((error: unknown) =>
        console.warn(`scenario ${this.label}: could not delete the platform's topics and databases: ${String(error)}`),
      );
    }
  }
}
