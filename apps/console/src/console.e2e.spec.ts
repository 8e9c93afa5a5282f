import { createKnex, migrate } from '@cqrs/event-store';
import {
  createTestDatabase,
  createTestIndexPrefix,
  createTestVhost,
  freePort,
  launchChromium,
  waitUntil,
  type TestBrowser,
  type TestDatabase,
  type TestIndexPrefix,
  type TestVhost,
} from '@cqrs/testing';
import amqp from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

// The operator console against the real system (four apps as processes, their own database,
// vhost and index prefix), driven in headless Chromium: health, a rebuild, a poison event
// found, fixed and replayed, a garbage message discarded, a stream on its statechart, and a
// customer's `<script>` name shown as text. With CONSOLE_SCREENSHOTS=<dir> it also saves a
// screenshot of each page (`npm run console:screenshots` writes docs/console/).
const root = join(__dirname, '..', '..', '..');
const TOKEN = 'console-e2e-token';
const OPERATOR = 'Grace (on call)';
const EVIL = '<script>window.__pwned = true</script>';
const shots = process.env.CONSOLE_SCREENSHOTS;

interface App {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  output: string;
}

describe('operator console (real system, headless Chromium)', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let es: TestIndexPrefix;
  let browser: TestBrowser;
  let page: Page;
  const apps = new Map<string, App>();
  const url = (app: string, path = '') => `http://127.0.0.1:${apps.get(app)!.port}${path}`;

  async function command(type: string, id: string, body: object): Promise<string> {
    const res = await fetch(url('command-service', `/commands/${type}/${id}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { consistencyToken?: string; detail?: string };
    if (res.status >= 300) throw new Error(`${type} ${id}: ${res.status} ${json.detail}`);
    return json.consistencyToken!;
  }

  async function shot(name: string): Promise<void> {
    if (!shots) return;
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    [db, vhost, es] = await Promise.all([
      createTestDatabase('console'),
      createTestVhost('console'),
      createTestIndexPrefix('console'),
    ]);
    const knex = createKnex(db.url, { poolMax: 2 });
    await migrate(knex);
    await knex.destroy();
    const ports = {
      'command-service': await freePort(),
      'outbox-relay': await freePort(),
      'query-service': await freePort(),
      console: await freePort(),
    };
    const env = {
      ...process.env,
      MYSQL_URL: db.url,
      AMQP_URL: vhost.url,
      RABBITMQ_MANAGEMENT_URL: vhost.managementUrl,
      INDEX_PREFIX: es.prefix,
      ELASTICSEARCH_URL: es.url,
      COMMAND_PORT: String(ports['command-service']),
      RELAY_PORT: String(ports['outbox-relay']),
      QUERY_PORT: String(ports['query-service']),
      CONSOLE_PORT: String(ports.console),
      ADMIN_TOKEN: TOKEN,
      INSTANCE_HEARTBEAT_MS: '1000',
      LOG_LEVEL: 'info',
    };
    for (const [name, port] of Object.entries(ports)) {
      const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [`apps/${name}/src/main.ts`], {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const app: App = { name, port, child, output: '' };
      child.stdout!.on('data', (d: Buffer) => (app.output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (app.output += d.toString()));
      apps.set(name, app);
    }
    const [launched] = await Promise.all([
      launchChromium(),
      ...[...apps.values()].map((app) =>
        waitUntil(
          `${app.name} to be healthy`,
          async () => (await fetch(url(app.name, '/health'))).status === 200 || undefined,
          90_000,
          250,
        ).catch((e: Error) => {
          throw new Error(`${e.message}\n--- ${app.name} ---\n${app.output.slice(-3000)}`);
        }),
      ),
    ]);
    browser = launched;
    page = await browser.context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());

    // A little history: a customer whose name is markup, a room, a confirmed reservation.
    await command('customer', 'c-evil', {
      type: 'RegisterCustomer',
      data: { name: EVIL, email: 'mallory@example.com' },
    });
    await command('room', 'rm-1', {
      type: 'RegisterRoom',
      data: {
        hotel: 'Hotel Console',
        city: 'Lisbon',
        number: '101',
        roomType: 'double',
        capacity: 2,
        ratePerNight: 12000,
      },
    });
    await command('reservation', 'r-1', {
      type: 'PlaceReservation',
      data: {
        customerId: 'c-evil',
        roomId: 'rm-1',
        checkIn: '2031-05-01',
        checkOut: '2031-05-03',
        guests: 2,
      },
    });
    const token = await command('reservation', 'r-1', { type: 'ConfirmReservation', data: {} });
    const read = await fetch(url('query-service', '/reservations/r-1'), {
      headers: { 'x-consistency-token': token, 'x-consistency-timeout-ms': '20000' },
    });
    expect(read.status).toBe(200);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(
      [...apps.values()].map(
        (app) =>
          new Promise<void>((resolve) => {
            if (app.child.exitCode !== null) return resolve();
            app.child.once('exit', () => resolve());
            process.kill(-app.child.pid!, 'SIGTERM');
          }),
      ),
    );
    await Promise.all([db?.drop(), vhost?.drop(), es?.drop()]);
  }, 60_000);

  it('signs in and shows every app instance healthy, the relay leader and the lag', async () => {
    await page.goto(url('console', '/'));
    await page.fill('input[name=operator]', OPERATOR);
    await page.fill('input[name=token]', TOKEN);
    await page.click('button[type=submit]');
    for (const app of ['command-service', 'outbox-relay', 'query-service', 'console']) {
      await page
        .locator(`tr[data-app="${app}"] [data-testid=health]`)
        .filter({ hasText: 'ok' })
        .first()
        .waitFor({ timeout: 20_000 });
    }
    await page
      .locator('[data-testid=relay]')
      .filter({ hasText: /leader:\s*\S+ pid \d+/ })
      .waitFor();
    // Each partition queue of the projector, with its lag in seconds (0: nothing waiting).
    const partition = page.locator(`tr[data-queue="${es.prefix}.query-projector.p0"]`);
    await partition.filter({ hasText: '0 ms' }).waitFor();
    await page
      .locator('[data-testid=outbox]')
      .filter({ hasText: /0 unpublished/ })
      .waitFor();
    await shot('system');
  }, 60_000);

  it('rebuilds a projection with a live progress bar and shows the alias swap', async () => {
    await page.click('nav >> text=Projections');
    const before = await page.locator('[data-testid=index-customers]').textContent();
    await page.click('[data-testid=rebuild-button-customers]');
    await page.locator('[data-testid=swap-customers]').waitFor({ timeout: 30_000 });
    const after = await page.locator('[data-testid=index-customers]').textContent();
    expect(after).not.toBe(before);
    expect(await page.locator('[data-testid=swap-customers]').textContent()).toContain(after);
    await shot('projections');
  }, 60_000);

  it('finds a poison event, replays it once the cause is fixed, and discards a garbage message', async () => {
    // The cause: the events (audit) index is closed, so Elasticsearch refuses the event for
    // good (index_closed_exception) and the projector dead-letters it with that reason.
    const eventsIndex = `${es.prefix}-events`;
    await es.client.indices.close({ index: eventsIndex });
    await command('customer', 'c-2', {
      type: 'RegisterCustomer',
      data: { name: 'Ada Lovelace', email: 'ada@example.com' },
    });
    // And a message no projector can read, from a misbehaving producer.
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    ch.publish('events', 'customer.CustomerRegistered', Buffer.from('{"half a message'), {
      messageId: 'garbage-1',
      contentType: 'application/json',
    });
    await ch.waitForConfirms();
    await conn.close();

    await page.click('nav >> text=Dead letters');
    const poison = page
      .locator('tr[data-message-id]')
      .filter({ hasText: 'index_closed_exception' });
    const garbage = page.locator('tr[data-message-id="garbage-1"]');
    await waitUntil(
      'both dead letters listed',
      async () => {
        await page.click('text=Refresh');
        return (await poison.count()) === 1 && (await garbage.count()) === 1 ? true : undefined;
      },
      30_000,
      500,
    );
    await poison.locator('text=Show').click();
    expect(await page.locator('[data-testid=dead-letter-body]').textContent()).toContain(
      'Ada Lovelace',
    );
    await shot('dead-letters');

    await es.client.indices.open({ index: eventsIndex, wait_for_active_shards: 1 });
    await poison.locator('button', { hasText: 'Replay' }).click();
    await poison.waitFor({ state: 'detached', timeout: 20_000 });
    await waitUntil('the replayed event in the events index', async () => {
      const res = await fetch(url('query-service', '/events?streamId=c-2'));
      const body = (await res.json()) as { hits?: unknown[] };
      return (body.hits?.length ?? 0) === 1 || undefined;
    });

    await garbage.locator('button', { hasText: 'Discard' }).click();
    await garbage.waitFor({ state: 'detached', timeout: 20_000 });
    await page
      .locator('[data-testid=dead-letter-total]')
      .filter({ hasText: /^0 dead letters$/ })
      .waitFor();

    // Audited: who, what, when - in the console's log and the query service's.
    const audit = (app: string) =>
      apps
        .get(app)!
        .output.split('\n')
        .filter((l) => l.includes('"audit"'))
        .map(
          (l) =>
            (JSON.parse(l) as { audit: { action: string; operator: string; at: string } }).audit,
        );
    for (const app of ['console', 'query-service']) {
      expect(audit(app)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ action: 'rebuild', operator: OPERATOR }),
          expect.objectContaining({ action: 'replay-dead-letter', operator: OPERATOR }),
          expect.objectContaining({
            action: 'discard-dead-letter',
            operator: OPERATOR,
            messageId: 'garbage-1',
          }),
        ]),
      );
    }
  }, 90_000);

  it('opens a stream: its events, and its state highlighted on the statechart', async () => {
    await page.click('nav >> text=Streams');
    await page.selectOption('select[name=type]', 'reservation');
    await page.fill('input[name=id]', 'r-1');
    await page.click('button:has-text("Open")');
    await page.locator('[data-testid=current-state]').filter({ hasText: 'confirmed' }).waitFor();
    const current = page.locator('[data-testid=statechart] svg g.current');
    await current.first().waitFor({ timeout: 20_000 });
    expect(await current.count()).toBe(1);
    expect(await current.textContent()).toContain('confirmed');
    expect(await page.locator('[data-testid=events] tbody tr').count()).toBe(2);
    await shot('streams');
  }, 60_000);

  it("shows a customer's <script> name as text, never as markup", async () => {
    await page.fill('input[name=id]', '');
    await page.selectOption('select[name=type]', 'customer');
    await page.fill('input[name=id]', 'c-evil');
    await page.click('button:has-text("Open")');
    // The customer's stream replaces the reservation's once it has loaded.
    await page.locator('[data-testid=current-state]').filter({ hasText: 'active' }).waitFor();
    const data = page.locator('[data-testid=events] pre.data').first();
    expect(await data.textContent()).toContain(EVIL);
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned),
    ).toBeUndefined();
    expect(await page.locator('main script').count()).toBe(0);
  }, 30_000);
});
