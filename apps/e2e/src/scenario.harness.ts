import { TOPICS } from '@grantline/contracts';
import { reproduceFromLog } from '@grantline/policy-engine';
import type { RecordedReproduction } from '@grantline/policy-engine';
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
    // Before anything is torn down (the reader and the topics go below); a failure fails the scenario after cleanup.
    const unreproduced = await this.reproduceDecisions().catch(
      (error: unknown) => new Error(`scenario ${this.label}: could not read its recorded decisions back to reproduce them: ${String(error)}`),
    );
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
    if (unreproduced !== undefined) throw unreproduced;
  }

  /**
   * Every decision the policy service recorded in this scenario's namespace, re-evaluated from the log (its input and
   * the bundle it names) and compared field by field (docs/adr/0021): one that comes out different, or that cannot
   * be reproduced for any reason but a refusal before evaluation, fails the scenario. One read of two small topics.
   */
  private async reproduceDecisions(): Promise<Error | undefined> {
    if (this.platform === undefined) return undefined;
    const reader = this.log ?? (await EventLogReader.connect(this.platform));
    try {
      const results = reproduceFromLog(await reader.read([TOPICS.decisions, TOPICS.policyBundles]));
      const identical = results.filter((result) => result.status === 'identical').length;
      process.stdout.write(`scenario ${this.label}: ${identical} of ${results.length} recorded decision(s) reproduced bit for bit from the log\n`);
      const failed = results.filter(
        (result): result is Exclude<RecordedReproduction, { status: 'identical' }> =>
          result.status === 'different' || (result.status === 'not_reproducible' && result.why !== 'refused_before_evaluation'),
      );
      if (failed.length === 0) return undefined;
      return new Error(
        `scenario ${this.label}: ${failed.length} recorded decision(s) do not reproduce bit for bit:\n` +
          failed
            .map((result) => `  ${result.decisionId}: ${result.reason}${result.status === 'different' ? ` ${JSON.stringify(result.differences)}` : ''}`)
            .join('\n'),
      );
    } finally {
      if (reader !== this.log) await reader.close();
    }
  }
}
