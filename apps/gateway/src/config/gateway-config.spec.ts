import { ServiceConfigError } from '@grantline/service-kit';
import { loadGatewayConfig, upstreamVariable } from './gateway-config';

describe('gateway configuration', () => {
  it('defaults: port 3100, loopback, each service at its npm start port, dev auth', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(3100);
    expect(config.host).toBe('127.0.0.1');
    expect(config.upstreams.intake).toBe('http://127.0.0.1:3101');
    expect(config.upstreams['connector-credentials']).toBe('http://127.0.0.1:3112');
    expect(config.rateLimit).toBe(600);
    expect(config.auth.mode).toBe('dev');
  });

  it('reads GATEWAY_<SERVICE>_URL (trailing slash dropped) and the limits', () => {
    const config = loadGatewayConfig({
      [upstreamVariable('connector-credentials')]: 'http://credentials.internal:8080/',
      GATEWAY_RATE_LIMIT: '5',
      GATEWAY_RATE_WINDOW_MS: '1000',
    });
    expect(upstreamVariable('connector-credentials')).toBe('GATEWAY_CONNECTOR_CREDENTIALS_URL');
    expect(config.upstreams['connector-credentials']).toBe('http://credentials.internal:8080');
    expect([config.rateLimit, config.rateWindowMs]).toEqual([5, 1000]);
  });

  it('names every bad variable at once, and refuses dev auth off loopback', () => {
    let error: unknown;
    try {
      loadGatewayConfig({ GATEWAY_AUDIT_URL: 'ftp://audit', GATEWAY_RATE_LIMIT: '0', PORT: 'x', HOST: '0.0.0.0' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ServiceConfigError);
    const variables = (error as ServiceConfigError).problems.map((problem) => problem.variable).sort();
    expect(variables).toEqual(expect.arrayContaining(['GATEWAY_AUDIT_URL', 'GATEWAY_RATE_LIMIT', 'PORT']));
    expect((error as ServiceConfigError).message).toMatch(/AUTH_MODE|HOST/);
  });
});
