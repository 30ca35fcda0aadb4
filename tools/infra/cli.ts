// `npm run infra:up|infra:down|infra:status`: the same manager jest's global setup uses.
import { describeComponent, infraDown, infraPaths, infraStatus, infraUp, otherLiveLeases } from '@grantline/testing';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...flags] = argv;
  switch (command ?? 'help') {
    case 'up': {
      const started = Date.now();
      const result = await infraUp({ owner: 'cli', log });
      for (const runtime of result.components) log(describeComponent(runtime));
      log(
        `infra: up in ${((Date.now() - started) / 1000).toFixed(1)} s (started: ${result.started.join(', ') || 'none'}; reused: ${result.reused.join(', ') || 'none'}); endpoints in .grantline/infra.json`,
      );
      return 0;
    }
    case 'down': {
      const force = flags.includes('--force');
      const paths = infraPaths();
      let refused = false;
      await infraDown({
        log,
        wipe: flags.includes('--wipe'),
        // the checkout is shared: do not pull the servers from under someone's running jest
        keepRunningIf: () => {
          const users = force ? [] : otherLiveLeases(paths);
          refused = users.length > 0;
          return refused ? `jest run(s) ${users.join(', ')} still use it; pass --force to stop anyway` : undefined;
        },
      });
      return refused ? 1 : 0;
    }
    case 'status': {
      const { state, health } = await infraStatus();
      for (const item of health) {
        const runtime = state?.components[item.component];
        const what = runtime === undefined ? item.component + ':' : describeComponent(runtime);
        log(`${item.healthy ? 'healthy  ' : 'UNHEALTHY'} ${what} - ${item.detail}`);
      }
      return health.every((item) => item.healthy) ? 0 : 1;
    }
    default:
      process.stderr.write('usage: scripts/grantline infra {up | down [--wipe] [--force] | status}\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`infra: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
