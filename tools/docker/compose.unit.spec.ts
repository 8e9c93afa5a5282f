import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ES_VERSION } from '@cqrs/stack';

// No Docker engine runs on our machines: check the compose file and Dockerfile statically.
const root = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  entrypoint?: string[];
  volumes?: string[];
  profiles?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(read('docker/compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const apps = {
  'command-service': '3000',
  'query-service': '3001',
  'outbox-relay': '3002',
} as const;

describe('docker/compose.yml', () => {
  it('runs more instances of every app under the scale profile, without host ports', () => {
    for (const app of Object.keys(apps)) {
      const replica = services[`${app}-replica`];
      expect(replica?.profiles).toEqual(['scale']);
      expect(replica?.environment).toEqual({ ...services[app]?.environment, APP: app });
      expect(replica?.build).toEqual(services[app]?.build);
      expect(replica?.deploy?.replicas).toBeGreaterThanOrEqual(1);
      expect(replica?.ports).toBeUndefined();
    }
    expect(services['query-service']?.environment?.PROJECTOR_PARTITIONS).toBe('4');
  });

  it('runs MySQL 8.4, RabbitMQ with management, and Elasticsearch + Kibana of the tested version', () => {
    expect(services.mysql?.image).toBe('mysql:8.4');
    expect(services.rabbitmq?.image).toMatch(/^rabbitmq:3\.\d+-management$/);
    expect(services.elasticsearch?.image).toBe(
      `docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}`,
    );
    expect(services.kibana?.image).toBe(`docker.elastic.co/kibana/kibana:${ES_VERSION}`);
    expect(services.elasticsearch?.environment?.['xpack.security.enabled']).toBe('false');
  });

  it('builds the three apps from the Dockerfile, each on its documented port with the documented variables', () => {
    for (const [app, port] of Object.entries(apps)) {
      const s = services[app];
      expect(s?.build?.dockerfile).toBe('docker/Dockerfile');
      expect(s?.environment?.APP).toBe(app);
      expect(existsSync(join(root, 'apps', app, 'src', 'main.ts'))).toBe(true);
      expect(s?.ports).toContain(`${port}:${port}`);
      for (const v of [
        'MYSQL_URL',
        'AMQP_URL',
        'ELASTICSEARCH_URL',
        'INDEX_PREFIX',
        'EVENTS_EXCHANGE',
        'LOG_LEVEL',
      ]) {
        expect(s?.environment).toHaveProperty(v);
      }
      expect(new URL(s!.environment!.MYSQL_URL!).hostname).toBe('mysql');
      expect(new URL(s!.environment!.AMQP_URL!).hostname).toBe('rabbitmq');
      expect(
        Object.values(s?.depends_on ?? {}).every((d) => d.condition === 'service_healthy'),
      ).toBe(true);
    }
  });

  it('gives every long-running infrastructure service a health check', () => {
    for (const name of ['mysql', 'rabbitmq', 'elasticsearch', 'kibana']) {
      expect(services[name]?.healthcheck?.test).toBeDefined();
    }
  });

  it('loads the Kibana saved objects with a one-shot service', () => {
    const setup = services['kibana-setup'];
    expect(setup?.depends_on?.kibana?.condition).toBe('service_healthy');
    expect(setup?.entrypoint?.join(' ')).toContain('/kibana/load.sh');
    expect(existsSync(join(root, 'docker', 'kibana', 'load.sh'))).toBe(true);
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = read('docker/Dockerfile');

  it('is multi-stage, runs as a non-root user and has a health check', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER (?!root)\S+/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toContain('dist/apps/$APP/main.js');
  });
});
