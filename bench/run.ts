/**
 * `npm run bench` / `bench:policy` / `bench:lifecycle` / `bench:projection` / `bench:verify` / `bench:expiry` / `bench:kafka-acl` / `bench:scim` / `bench:credentials`: benchmarks are not tests. Each prints its rates, the
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
    case 'kafka-acl': {
      const { runKafkaAclBenchWithInfra } = await import('./kafka-acl.bench');
      await runKafkaAclBenchWithInfra();
      break;
    }
    case 'scim': {
      const { runScimBenchWithInfra } = await import('./scim.bench');
      await runScimBenchWithInfra();
      break;
    }
    case 'credentials': {
      // @peculiar/x509 (the issuer's CA) needs the Reflect metadata polyfill before it loads; a Nest host has it
      await import('reflect-metadata');
      const { runCredentialsBenchWithInfra } = await import('./credentials.bench');
      await runCredentialsBenchWithInfra();
      break;
    }
    default:
      throw new Error(`unknown benchmark '${name}' (messaging | policy | lifecycle | projection | verify | expiry | kafka-acl | scim | credentials)`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
