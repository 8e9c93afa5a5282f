import { commonEnv, parseMysqlUrl, readConfig } from './config';

describe('commonEnv', () => {
  it('listens on loopback unless HOST says otherwise (safe on a laptop)', () => {
    expect(readConfig({ host: commonEnv.host }, {}).host).toBe('127.0.0.1');
    expect(readConfig({ host: commonEnv.host }, { HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });
});

describe('parseMysqlUrl', () => {
  it('reads host, port, user, password and database, decoding escapes', () => {
    expect(parseMysqlUrl('mysql://app%40x:p%2Fw@db.local:3307/my%20db')).toEqual({
      host: 'db.local',
      port: 3307,
      user: 'app@x',
      password: 'p/w',
      database: 'my db',
    });
  });

  it('defaults to root on port 3306 and no database', () => {
    expect(parseMysqlUrl('mysql://127.0.0.1')).toEqual({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      password: '',
      database: '',
    });
  });
});
