import { ProgressLine } from '@cqrs/stack';

/**
 * `npm run demo`: seeds a realistic hotel dataset through the command API of a running system
 * (customers, rooms in several cities and hotels, reservations in every state), so a new user
 * can search at once. Deterministic (seeded) and safe to rerun: every command carries an
 * Idempotency-Key derived from what it does, so a second run appends nothing.
 */
interface Options {
  readonly commandUrl: string;
  readonly queryUrl: string;
  readonly customers: number;
  readonly reservations: number;
  readonly concurrency: number;
  readonly token?: string;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, def: number) => {
    const v = flag(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  return {
    commandUrl: flag('command-url') ?? `http://127.0.0.1:${env.COMMAND_PORT ?? 3000}`,
    queryUrl: flag('query-url') ?? `http://127.0.0.1:${env.QUERY_PORT ?? 3001}`,
    customers: num('customers', 300),
    reservations: num('reservations', 600),
    concurrency: num('concurrency', 16),
    ...(env.API_TOKEN ? { token: env.API_TOKEN } : {}),
  };
}

/** mulberry32: a tiny seeded PRNG, so every run seeds the same dataset. */
function rng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}

const FIRST = [
  'Ada',
  'Alan',
  'Grace',
  'Edsger',
  'Barbara',
  'Donald',
  'Margaret',
  'Ken',
  'Frances',
  'Dennis',
  'Radia',
  'Tim',
  'Hedy',
  'Linus',
  'Sophie',
  'John',
  'Katherine',
  'Niklaus',
  'Shafi',
  'Leslie',
  'Annie',
  'Guido',
  'Joan',
  'Bjarne',
];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Allen',
  'Ritchie',
  'Perlman',
  'Berners-Lee',
  'Lamarr',
  'Torvalds',
  'Wilson',
  'McCarthy',
  'Johnson',
  'Wirth',
  'Goldwasser',
  'Lamport',
  'Easley',
  'van Rossum',
  'Clarke',
  'Stroustrup',
];
const HOTELS = [
  { hotel: 'Grand Central', city: 'Berlin' },
  { hotel: 'Spree Riverside', city: 'Berlin' },
  { hotel: 'Harbour View', city: 'Hamburg' },
  { hotel: 'Alster Lodge', city: 'Hamburg' },
  { hotel: 'Old Town Inn', city: 'Munich' },
  { hotel: 'Isar Suites', city: 'Munich' },
  { hotel: 'Cathedral Plaza', city: 'Cologne' },
  { hotel: 'Rhine Terrace', city: 'Cologne' },
] as const;
const ROOM_TYPES = [
  { roomType: 'single', capacity: 1, rate: [6900, 9900] },
  { roomType: 'double', capacity: 2, rate: [9900, 15900] },
  { roomType: 'suite', capacity: 4, rate: [19900, 39900] },
] as const;

interface Cmd {
  readonly type: string;
  readonly id: string;
  readonly command: string;
  readonly data: Record<string, unknown>;
}

/** Builds the whole dataset as ordered phases; commands inside a phase may run concurrently. */
export function buildDataset(customers: number, reservations: number): Cmd[][] {
  const r = rng(42);
  const pad = (n: number, w = 4) => String(n).padStart(w, '0');
  const register: Cmd[] = [];
  const customerIds: string[] = [];
  for (let i = 1; i <= customers; i++) {
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    const id = `c-${pad(i)}`;
    customerIds.push(id);
    const email = `${first}.${last}.${i}@example.com`.toLowerCase().replace(/[^a-z0-9.@-]/g, '');
    register.push({
      type: 'customer',
      id,
      command: 'RegisterCustomer',
      data: {
        name: `${first} ${last}`,
        email,
        ...(i % 3 === 0 ? { phone: `+49 30 ${pad(i, 6)}` } : {}),
      },
    });
  }
  const rooms: { id: string; capacity: number }[] = [];
  HOTELS.forEach((h, hi) => {
    for (let n = 1; n <= 12; n++) {
      const t = ROOM_TYPES[n % 3]!;
      const id = `room-${hi + 1}-${100 + n}`;
      rooms.push({ id, capacity: t.capacity });
      register.push({
        type: 'room',
        id,
        command: 'RegisterRoom',
        data: {
          hotel: h.hotel,
          city: h.city,
          number: String(100 + n),
          roomType: t.roomType,
          capacity: t.capacity,
          ratePerNight: r.int(t.rate[0], t.rate[1]),
        },
      });
    }
  });
  const place: Cmd[] = [];
  const lifecycle: Cmd[][] = [[], [], []];
  const nextFreeDay = new Map<string, number>();
  for (let i = 1; i <= reservations; i++) {
    const id = `res-${pad(i, 5)}`;
    const room = r.pick(rooms);
    // Stays of one room follow each other (the room calendar refuses overlaps, 422).
    const start = (nextFreeDay.get(room.id) ?? 0) + r.int(0, 3);
    const day = new Date(Date.UTC(2026, 11, 1) + start * 86_400_000);
    const nights = r.int(1, 7);
    nextFreeDay.set(room.id, start + nights);
    const out = new Date(day.getTime() + nights * 86_400_000);
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    place.push({
      type: 'reservation',
      id,
      command: 'PlaceReservation',
      data: {
        customerId: r.pick(customerIds),
        roomId: room.id,
        checkIn: iso(day),
        checkOut: iso(out),
        guests: r.int(1, room.capacity),
      },
    });
    // Every state: ~20% pending, 15% cancelled, 25% confirmed, 15% checked in, 25% checked out.
    const roll = r.next();
    if (roll < 0.2) continue;
    if (roll < 0.35) {
      lifecycle[0]!.push({
        type: 'reservation',
        id,
        command: 'CancelReservation',
        data: { reason: 'plans changed' },
      });
      continue;
    }
    lifecycle[0]!.push({ type: 'reservation', id, command: 'ConfirmReservation', data: {} });
    if (roll < 0.6) continue;
    lifecycle[1]!.push({ type: 'reservation', id, command: 'CheckInGuest', data: {} });
    if (roll < 0.75) continue;
    lifecycle[2]!.push({ type: 'reservation', id, command: 'CheckOutGuest', data: {} });
  }
  // Later changes that the read models must follow: renames, contact changes, rate changes.
  const changes: Cmd[] = [];
  for (let i = 5; i <= customers; i += 17)
    changes.push({
      type: 'customer',
      id: `c-${pad(i)}`,
      command: 'RenameCustomer',
      data: { name: `${r.pick(FIRST)} ${r.pick(LAST)}` },
    });
  for (let i = 7; i <= customers; i += 23)
    changes.push({
      type: 'customer',
      id: `c-${pad(i)}`,
      command: 'ChangeCustomerContact',
      data: { phone: `+49 40 ${pad(i, 6)}` },
    });
  for (let i = 0; i < rooms.length; i += 9)
    changes.push({
      type: 'room',
      id: rooms[i]!.id,
      command: 'ChangeRoomRate',
      data: { ratePerNight: r.int(8000, 30000) },
    });
  // Last, so that their reservations could still be placed: a few deactivations and retirements.
  const endings: Cmd[] = [];
  for (let i = 11; i <= customers; i += 53)
    endings.push({
      type: 'customer',
      id: `c-${pad(i)}`,
      command: 'DeactivateCustomer',
      data: { reason: 'account closed' },
    });
  endings.push({ type: 'room', id: rooms[rooms.length - 1]!.id, command: 'RetireRoom', data: {} });
  return [register, place, ...lifecycle, changes, endings];
}

async function send(
  opts: Options,
  cmd: Cmd,
): Promise<{ status: number; token?: string; detail?: string }> {
  const res = await fetch(`${opts.commandUrl}/commands/${cmd.type}/${cmd.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': `demo:${cmd.command}:${cmd.id}`,
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: JSON.stringify({ type: cmd.command, data: cmd.data }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    consistencyToken?: string;
    detail?: string;
  };
  return {
    status: res.status,
    ...(body.consistencyToken ? { token: body.consistencyToken } : {}),
    ...(body.detail ? { detail: body.detail } : {}),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2), process.env);
  const health = await fetch(`${opts.commandUrl}/health`).then(
    (r) => r.status,
    () => 0,
  );
  if (health !== 200)
    throw new Error(
      `The command service does not answer at ${opts.commandUrl}/health - start the system with \`npm start\` first.`,
    );
  const phases = buildDataset(opts.customers, opts.reservations);
  const total = phases.reduce((n, p) => n + p.length, 0);
  const progress = new ProgressLine('demo: commands', total);
  const outcomes = new Map<number, number>();
  const refusals: string[] = [];
  let done = 0;
  let lastToken: string | undefined;
  for (const phase of phases) {
    let next = 0;
    const worker = async () => {
      while (next < phase.length) {
        const cmd = phase[next++]!;
        const r = await send(opts, cmd);
        outcomes.set(r.status, (outcomes.get(r.status) ?? 0) + 1);
        if (r.status >= 400 && refusals.length < 5)
          refusals.push(`${cmd.command} ${cmd.type}/${cmd.id}: ${r.status} ${r.detail ?? ''}`);
        if (r.token) lastToken = r.token;
        progress.update(++done);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  }
  progress.done(done);
  console.log(`demo: ${[...outcomes].map(([s, n]) => `${n} x ${s}`).join(', ')}`);
  for (const r of refusals)
    console.log(
      `  refused (a business rule - e.g. a guest count over a room's capacity - or a rerun): ${r}`,
    );
  if (lastToken) {
    const seen = await fetch(`${opts.queryUrl}/reservations?size=1`, {
      headers: { 'x-consistency-token': lastToken, 'x-consistency-timeout-ms': '30000' },
    }).then(
      (r) => r.status,
      () => 0,
    );
    console.log(
      seen === 200
        ? 'demo: the read models have caught up'
        : `demo: the query service answered ${seen} while waiting for the read models`,
    );
  }
  console.log(`Try:
  curl '${opts.queryUrl}/reservations?q=lovelace'
  curl '${opts.queryUrl}/reservations?status=confirmed&city=Berlin&sort=checkIn'
  curl '${opts.queryUrl}/rooms?city=Hamburg'`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`demo: ${err.message}`);
    process.exit(1);
  });
}
