/**
 * `npm run bench` / `bench:policy` / `bench:lifecycle` / `bench:projection` / `bench:verify` / `bench:expiry` / `bench:kafka-acl` / `bench:scim` / `bench:credentials` / `bench:connectors` / `bench:store` / `bench:kafka-clients` / `bench:start`: benchmarks are not tests. Each prints its rates, the
 * ratios against a baseline measured in the same run, and one closing line of JSON.
 */
async function main(): Promise<void> {
  const name = process.argv[2] ?? 'messaging';
  switch (name) {
    case 'messaging': {
      const { runMessagingBenchWithInfra } = await import('./messaging.bench');
      await runMessagingBenchWithInfra();
      break;
    }
    case 'policy': {
      await import('./policy.bench');
      break;
    }
    case 'lifecycle': {
      const { runLifecycleBench } = await import('./lifecycle/lifecycle.bench');
      await runLifecycleBench();
      break;
    }
    case 'projection': {
      const { runProjectionBench } = await import('./projection.bench');
      await runProjectionBench();
      break;
    }
    case 'verify': {
      const { runVerifyBench } = await import('./verify.bench');
      await runVerifyBench();
      break;
    }
    case 'expiry': {
      const { runExpiryBench } = await import('./expiry/expiry.bench');
      await runExpiryBench();
      break;
    }
    // one connector each; `connectors` runs every one (or those named after it)
    case 'kafka-acl':
    case 'scim':
    case 'credentials':
    case 'connectors': {
      const { runConnectorsBench } = await import('./connectors/connectors.bench');
      await runConnectorsBench(name === 'connectors' ? process.argv.slice(3) : [name]);
      break;
    }
    case 'store': {
      const { runStoreBench } = await import('./store/store.bench');
      await runStoreBench();
      break;
    }
    case 'start': {
      const { runStartBench } = await import('./start/start.bench');
      await runStartBench();
      break;
    }
    case 'kafka-clients': {
      const { runKafkaClientsBench } = await import('./kafka-clients/kafka-clients.bench');
      await runKafkaClientsBench();
      break;
    }
    default:
      throw new Error(
        `unknown benchmark '${name}' (messaging | policy | lifecycle | projection | verify | expiry | kafka-acl | scim | credentials | connectors | store | kafka-clients | start)`,
      );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
