import { commonEnv, readConfig } from './config';

describe('commonEnv', () => {
  it('listens on loopback unless HOST says otherwise (safe on a laptop)', () => {
    expect(readConfig({ host: commonEnv.host }, {}).host).toBe('127.0.0.1');
    expect(readConfig({ host: commonEnv.host }, { HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });
});
