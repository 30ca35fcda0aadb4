/** The services `npm start` runs, in start order, with the ports they default to. */
export interface PlatformService {
  readonly name: string;
  readonly port: number;
  readonly main: string;
}

const service = (name: string, port: number): PlatformService => ({ name, port, main: `apps/${name}/src/main.ts` });

export const PLATFORM_SERVICES: readonly PlatformService[] = [
  service('intake', 3101),
  service('policy', 3102),
  service('approval', 3103),
  service('provisioning', 3104),
  service('connector-postgres', 3107),
  service('scheduler', 3105),
  service('audit', 3106),
  service('notifier', 3108),
];
