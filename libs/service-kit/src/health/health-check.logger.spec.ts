import { Logger } from '@nestjs/common';
import { HealthCheckLogger } from './health-check.logger';

describe('HealthCheckLogger', () => {
  afterEach(() => jest.restoreAllMocks());

  it('given a failed health check, when Terminus reports it as an error, then it is logged as a warning of the health context', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

    new HealthCheckLogger().error('Health Check has failed! {"consumer group intake.itsm":{"status":"down"}}');

    expect(error).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith('Health Check has failed! {"consumer group intake.itsm":{"status":"down"}}');
  });
});
