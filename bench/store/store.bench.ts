/**
 * `npm run bench:store`: the local MongoDB-wire store chosen by measurement (issue 12 item 4, ADR 0035).
 *
 * Each candidate is started privately for this run (its own port, its own data, disposed after): FerretDB on SQLite
 * (the harness default, the same-run baseline), FerretDB on PostgreSQL (a private cluster) and mongo-java-server
 * (in-memory). Into each: the audit's read-model documents, N in all (one grant_access ~0.6 KiB and one
 * request_timeline ~2.7 KiB per request, folded from the contracts' lifecycle story), grant_access's indexes created
 * first as the audit's store does, then:
 *   load        insertMany, 1,000 documents a call
 *   rebuild     the audit's start-up catch-up from Kafka (a private broker of the bench's) into an empty database of
 *               the candidate (bench/projection's rebuild), checked against the in-memory fold
 *   findOne     one request_timeline by _id, with `explain`: does the plan use the _id index?
 *   secondary   find grant_access by subjectId (indexed, ~10 documents), with `explain`
 *   count       countDocuments by subjectId and status
 *   $in         request_timeline by 500 _ids (the projector's loadMany)
 *   bulkWrite   200 replaceOne by _id and _rev a call (the projector's writeDocuments)
 * in that order: a call abandoned for its budget may go on on the server, so the shapes a scanning store is expected
 * to abandon come last.
 * Calls are sequential (one client, one call at a time). Every operation runs for a time budget and reports the
 * rate of what completed; a single call longer than the budget is abandoned (the candidate scans). Prints a table
 * with each figure's ratio to the baseline and ends with one JSON line.
 *
 * `-- --quick` (or BENCH_STORE_QUICK=1): 20,000 documents. BENCH_STORE_DOCUMENTS (1,000,000), BENCH_STORE_CANDIDATES
 * (comma-separated; the baseline always runs), BENCH_STORE_BUDGET_MS (per operation: 20,000; quick 5,000),
 * BENCH_STORE_LOAD_BUDGET_MS (1,200,000; quick 120,000), BENCH_STORE_REBUILD_EVENTS (30,000; quick 6,000; 0 skips the
 * rebuild and its Kafka), BENCH_STORE_REBUILD_BUDGET_MS (600,000), BENCH_STORE_JAVA_HEAP (12g; quick 2g).
 * `-- --serve NAME` starts one candidate, prints MONGO_URL=… and keeps it until SIGINT (for the integration specs).
 */
import { Logger } from '@nestjs/common';
import { createConnection } from 'mongoose';
import type { Connection } from 'mongoose';
import { LIFECYCLE_STORY_EVENTS, TOPICS, lifecycleStory, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { startPrivateKafka, uniqueName } from '@grantline/testing';
import type { PrivateKafka } from '@grantline/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- an app exports nothing: the audit's start-up path is measured through its testing entry
import { AUDIT_EVENT_TYPES, rebuildFromLog } from '../../apps/audit/src/testing/rebuild.bench';
// eslint-disable-next-line @nx/enforce-module-boundaries -- as above: the audit's document shapes
import { readModelShapes } from '../../apps/audit/src/testing/store-documents.bench';
import { CANDIDATES, isCandidate, serveCandidate, startCandidate } from './candidates';
import type { CandidateName } from './candidates';
import { StoreSession, createProjectionIndexes, load, measureOperations, rate } from './operations';
import type { DataSet, Explained, Measured, OperationResults, OperationSettings } from './operations';

const say = (line: string): void => void process.stderr.write(`store | ${line}\n`);
const BASELINE: CandidateName = 'ferretdb-sqlite';
const INSERT_CHUNK = 1_000;
const PUBLISH_CHUNK = 500;

function settings() {
  const env = process.env;
  const quick = env['BENCH_STORE_QUICK'] === '1' || process.argv.includes('--quick');
  const whole = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${env[name]} is not a whole number`);
    return value;
  };
  const documents = whole('BENCH_STORE_DOCUMENTS', quick ? 20_000 : 1_000_000);
  if (documents < 2_000) throw new Error(`BENCH_STORE_DOCUMENTS=${documents}: at least 2,000`);
  const asked = (env['BENCH_STORE_CANDIDATES'] ?? CANDIDATES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = asked.filter((name) => !isCandidate(name));
  if (unknown.length > 0) throw new Error(`BENCH_STORE_CANDIDATES: unknown ${unknown.join(', ')} (${CANDIDATES.join(' | ')})`);
  const candidates = [BASELINE, ...asked.filter(isCandidate).filter((name) => name !== BASELINE)];
  const operations: OperationSettings = { budgetMs: whole('BENCH_STORE_BUDGET_MS', quick ? 5_000 : 20_000), maxCalls: 100_000, inSize: 500, bulkSize: 200 };
  return {
    quick,
    documents,
    candidates,
    operations,
    loadBudgetMs: whole('BENCH_STORE_LOAD_BUDGET_MS', quick ? 120_000 : 1_200_000),
    rebuildEvents: whole('BENCH_STORE_REBUILD_EVENTS', quick ? 6_000 : 30_000),
    rebuildBudgetMs: whole('BENCH_STORE_REBUILD_BUDGET_MS', 600_000),
    javaHeap: env['BENCH_STORE_JAVA_HEAP'] ?? (quick ? '2g' : '12g'),
  };
}

type Settings = ReturnType<typeof settings>;

let rebuildAbandoned = false;

interface RebuildFigures {
  readonly events: number;
  readonly ms: number;
  readonly eventsPerSecond: number;
  readonly equalToFold: boolean;
  /** Not caught up within the budget: the figure is a bound, not a rate. */
  readonly cut: boolean;
  readonly error?: string;
}

interface CandidateReport {
  readonly name: CandidateName;
  readonly version: string;
  readonly load: Measured & { readonly documents: number; readonly bytes: number; readonly mibPerSecond: number };
  readonly operations?: OperationResults;
  readonly rebuild?: RebuildFigures;
  readonly error?: string;
}

/** The log the rebuilds replay: K lifecycle stories on the audit's topics of a namespace of this run. */
interface RebuildLog {
  readonly kafka: PrivateKafka;
  readonly bus: KafkaMessageBus;
  readonly events: readonly Envelope[];
}

/** A Kafka broker of the bench's own (the harness's pinned jars, plaintext, free ports), disposed at the end. */
async function publishRebuildLog(run: string, events: number): Promise<RebuildLog> {
  const namespace = run.replace(/_/g, '-');
  const kafka = await startPrivateKafka();
  const bus = new KafkaMessageBus({ clientId: run, brokers: [...kafka.brokers], registry, logger: silentLogger, namespace });
  try {
    await bus.connect();
  } catch (error) {
    await kafka.dispose();
    throw error;
  }
  const published = Array.from({ length: Math.ceil(events / LIFECYCLE_STORY_EVENTS) }, (_, index) => lifecycleStory(index)).flat();
  const topics = [...new Set(AUDIT_EVENT_TYPES.map((type) => registry.definitionOf(type).topic))];
  await bus.ensureTopics([...topics.map((topic) => ({ topic, partitions: 3 })), { topic: TOPICS.deadLetter }]);
  for (const topic of topics) {
    const onTopic = published.filter((event) => registry.definitionOf(event.type).topic === topic);
    for (let i = 0; i < onTopic.length; i += PUBLISH_CHUNK) await bus.publisher.publish(topic, onTopic.slice(i, i + PUBLISH_CHUNK));
  }
  say(`rebuild log: ${published.length} events on ${topics.length} topics × 3 partitions, namespace ${namespace}`);
  return { kafka, bus, events: published };
}

async function rebuildInto(url: string, database: string, log: RebuildLog, budgetMs: number): Promise<RebuildFigures> {
  const target = new URL(url);
  target.pathname = `/${database}`;
  const connection: Connection = await createConnection(target.toString()).asPromise();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      rebuildFromLog(log.bus, registry, connection, log.events),
      new Promise<'cut'>((resolve) => {
        timer = setTimeout(() => resolve('cut'), budgetMs);
      }),
    ]);
    if (outcome === 'cut') {
      // the catch-up goes on retrying against a server about to be disposed: the bench exits when it is done
      rebuildAbandoned = true;
      const ms = performance.now() - started;
      return { events: 0, ms: Math.round(ms), eventsPerSecond: 0, equalToFold: false, cut: true };
    }
    return {
      events: outcome.events,
      ms: Math.round(outcome.ms),
      eventsPerSecond: rate(outcome.events, outcome.ms),
      equalToFold: outcome.equalToFold,
      cut: false,
    };
  } catch (error) {
    const ms = performance.now() - started;
    return { events: 0, ms: Math.round(ms), eventsPerSecond: 0, equalToFold: false, cut: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    await connection.close(true).catch(() => undefined);
  }
}

async function measureCandidate(name: CandidateName, cfg: Settings, data: DataSet, log: RebuildLog | undefined, run: string): Promise<CandidateReport> {
  say(`${name}: starting`);
  const candidate = await startCandidate(name, { javaHeap: cfg.javaHeap });
  const session = new StoreSession(candidate.url, `${run}_docs`);
  try {
    say(`${name}: ${candidate.version} at ${candidate.url}`);
    await createProjectionIndexes(session, data);
    const loaded = await load(session, data, INSERT_CHUNK, cfg.loadBudgetMs, say);
    const mib = (loaded.bytes / 1_048_576) * (loaded.measured.units / Math.max(1, loaded.documents));
    const report = {
      name,
      version: candidate.version,
      load: { ...loaded.measured, documents: loaded.documents, bytes: loaded.bytes, mibPerSecond: rate(mib, loaded.measured.ms) },
    };
    say(
      `${name}: loaded ${loaded.documents} documents in ${loaded.measured.ms} ms${loaded.measured.cut ? ' (cut)' : ''}${loaded.measured.error ? ` (${loaded.measured.error})` : ''}`,
    );
    if (loaded.requests === 0) return { ...report, error: 'nothing loaded' };
    // the rebuild before the queries: a query abandoned for its budget may still run on the server for a while
    const rebuild = log === undefined ? undefined : await rebuildInto(candidate.url, `${run}_rebuild`, log, cfg.rebuildBudgetMs);
    if (rebuild !== undefined) say(`${name}: rebuild ${rebuild.cut ? 'cut' : `${rebuild.events} events in ${rebuild.ms} ms`}`);
    const operations = await measureOperations(session, data, loaded.requests, cfg.operations);
    say(`${name}: operations measured`);
    return { ...report, operations, ...(rebuild === undefined ? {} : { rebuild }) };
  } finally {
    await session.close();
    await candidate.dispose();
    say(`${name}: disposed`);
  }
}

const figure = (measured: Measured | undefined, unit = '/s'): string => {
  if (measured === undefined) return 'n/a';
  if (measured.error !== undefined) return 'error';
  if (measured.calls === 0) return `< ${(measured.atMost ?? rate(1, measured.ms)).toLocaleString('en-US')}${unit} (cut)`;
  return `${measured.perSecond.toLocaleString('en-US')}${unit}${measured.cut ? ' (cut)' : ''}`;
};

function row(label: string, reports: readonly CandidateReport[], pick: (report: CandidateReport) => Measured | undefined, unit?: string): string {
  const base = pick(reports[0] as CandidateReport)?.perSecond ?? 0;
  const cells = reports.map((report, index) => {
    const measured = pick(report);
    const text = figure(measured, unit);
    if (index === 0 || measured === undefined || base === 0 || measured.calls === 0) return text;
    return `${text} (×${Math.round((measured.perSecond / base) * 100) / 100})`;
  });
  return `${label.padEnd(30)} ${cells.map((cell) => cell.padEnd(30)).join(' ')}`;
}

function explainRow(label: string, reports: readonly CandidateReport[], pick: (operations: OperationResults) => Explained): string {
  const cells = reports.map((report) => {
    const explain = report.operations === undefined ? undefined : pick(report.operations);
    return explain === undefined ? 'n/a' : !explain.supported ? 'no explain' : explain.usesIndex === true ? 'yes' : 'no';
  });
  return `${label.padEnd(30)} ${cells.map((cell) => cell.padEnd(30)).join(' ')}`;
}

function printTable(reports: readonly CandidateReport[]): void {
  say('');
  say(`${''.padEnd(30)} ${reports.map((report) => (report.name === BASELINE ? `${report.name} (baseline)` : report.name).padEnd(30)).join(' ')}`);
  say(row('load, insertMany docs', reports, (report) => report.load, ' docs/s'));
  say(row('findOne by _id', reports, (report) => report.operations?.findOneById));
  say(explainRow('  explain: _id index used', reports, (operations) => operations.findOneById.explain));
  say(row('find by subjectId (indexed)', reports, (report) => report.operations?.findBySecondary));
  say(explainRow('  explain: index used', reports, (operations) => operations.findBySecondary.explain));
  say(row('$in of 500 ids, docs', reports, (report) => report.operations?.inIds, ' docs/s'));
  say(row('bulkWrite replaceOne, docs', reports, (report) => report.operations?.bulkReplace, ' docs/s'));
  say(row('countDocuments with filter', reports, (report) => report.operations?.countWithFilter));
  say(
    row(
      'rebuild (projector), events',
      reports,
      (report) =>
        report.rebuild && {
          calls: report.rebuild.cut || report.rebuild.error !== undefined ? 0 : 1,
          units: report.rebuild.events,
          ms: report.rebuild.ms,
          perSecond: report.rebuild.eventsPerSecond,
          cut: report.rebuild.cut,
          ...(report.rebuild.error === undefined ? {} : { error: report.rebuild.error }),
        },
      ' ev/s',
    ),
  );
  for (const report of reports) {
    if (report.operations !== undefined) {
      say(`${report.name} plan, find by _id: ${report.operations.findOneById.explain.plan}`);
      say(`${report.name} plan, find by subjectId: ${report.operations.findBySecondary.explain.plan}`);
    }
    if (report.rebuild !== undefined && !report.rebuild.cut && report.rebuild.error === undefined && !report.rebuild.equalToFold) {
      say(`${report.name}: rebuild NOT equal to the in-memory fold`);
    }
    if (report.error !== undefined) say(`${report.name}: ${report.error}`);
  }
}

export async function runStoreBench(): Promise<void> {
  const cfg = settings();
  const serve = process.argv.indexOf('--serve');
  if (serve !== -1) {
    const name = process.argv[serve + 1] ?? '';
    if (!isCandidate(name)) throw new Error(`--serve ${name}: one of ${CANDIDATES.join(' | ')}`);
    await serveCandidate(name, { javaHeap: cfg.javaHeap });
    return;
  }
  const run = uniqueName('bench_store');
  const requests = Math.floor(cfg.documents / 2);
  const data: DataSet = { shapes: readModelShapes(), requests, subjects: Math.max(1, Math.round(requests / 10)) };
  say(
    `${requests * 2} documents (${requests} grant_access + ${requests} request_timeline, ~${data.subjects} subjects) per candidate: ${cfg.candidates.join(', ')}; ` +
      `budget ${cfg.operations.budgetMs} ms an operation, load ${cfg.loadBudgetMs} ms`,
  );
  let log: RebuildLog | undefined;
  const reports: CandidateReport[] = [];
  try {
    if (cfg.rebuildEvents > 0) {
      // the catch-up logs its progress through Nest's logger: warnings and errors only, the figures are the bench's
      Logger.overrideLogger(['warn', 'error']);
      log = await publishRebuildLog(run, cfg.rebuildEvents);
    }
    for (const name of cfg.candidates) {
      try {
        reports.push(await measureCandidate(name, cfg, data, log, run));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        say(`${name}: FAILED: ${message}`);
        reports.push({
          name,
          version: 'not started',
          load: { calls: 0, units: 0, ms: 0, perSecond: 0, cut: false, documents: 0, bytes: 0, mibPerSecond: 0 },
          error: message.slice(0, 500),
        });
      }
    }
    printTable(reports);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'store',
        quick: cfg.quick,
        documents: requests * 2,
        baseline: BASELINE,
        budgetMs: cfg.operations.budgetMs,
        rebuildEvents: log?.events.length ?? 0,
        candidates: reports,
      })}\n`,
    );
    if (reports.some((report) => report.rebuild !== undefined && !report.rebuild.cut && report.rebuild.error === undefined && !report.rebuild.equalToFold)) {
      process.exitCode = 1;
    }
  } finally {
    if (log !== undefined) {
      await log.bus.disconnect().catch(() => undefined);
      await log.kafka.dispose();
    }
    if (rebuildAbandoned) process.exit();
  }
}
