import { randomUUID } from 'node:crypto';
import type { AppProcess } from '@cqrs/testing';

/** What the command service acknowledged: the verifier finds each of these in MySQL. */
export interface Acked {
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
  readonly events: readonly string[];
}

export interface LoadStats {
  readonly acked: Acked[];
  /** 4xx answers the domain gave (422 etc.): answered, nothing written. */
  refused: number;
  /** Retries of one request (same Idempotency-Key) after a lost answer, 503 or 409 in flight. */
  retries: number;
  /** Requests that got no acknowledgement within their deadline (still retried by key). */
  gaveUp: number;
  /** 5xx other than 503: a finding. */
  serverErrors: string[];
}

const CUSTOMERS = 20;
const ROOMS = 20;

/**
 * A closed loop of mixed commands: renames, placements and reservation lifecycles, each with
 * an Idempotency-Key, retried with the same key until acknowledged (what a client must do
 * when the service it talks to dies). Requests go round-robin to the command-service
 * instances that are up.
 */
export class CommandLoad {
  readonly stats: LoadStats = { acked: [], refused: 0, retries: 0, gaveUp: 0, serverErrors: [] };
  private next = 0;
  private nights = 0;
  private stopping = false;

  constructor(private readonly instances: readonly AppProcess[]) {}

  /** Registers the customers and rooms the load works on. */
  async prepare(): Promise<void> {
    await Promise.all([
      ...Array.from({ length: CUSTOMERS }, (_, i) =>
        this.send('customer', `c-${i}`, {
          type: 'RegisterCustomer',
          data: { name: `Guest ${i} v0`, email: `g${i}@chaos.test` },
        }),
      ),
      ...Array.from({ length: ROOMS }, (_, i) =>
        this.send('room', `r-${i}`, {
          type: 'RegisterRoom',
          data: {
            hotel: `Hotel ${i % 4}`,
            city: 'Chaosville',
            number: String(100 + i),
            roomType: 'double',
            capacity: 2,
            ratePerNight: 10_000 + i,
          },
        }),
      ),
    ]);
  }

  /** Runs `workers` closed loops until stop(); resolves when all have finished. */
  async run(workers: number, until: () => boolean): Promise<void> {
    await Promise.all(Array.from({ length: workers }, (_, w) => this.worker(w, until)));
  }

  private async worker(w: number, until: () => boolean): Promise<void> {
    const open: Array<{ id: string; step: number }> = [];
    let renames = 0;
    for (let n = 0; !until(); n++) {
      const dice = n % 10;
      if (dice < 4) {
        const c = (w * 7 + n) % CUSTOMERS;
        await this.send('customer', `c-${c}`, {
          type: 'RenameCustomer',
          data: { name: `Guest ${c} w${w}-${renames++}` },
        });
      } else if (dice < 7 || open.length === 0) {
        const id = `res-${w}-${n}`;
        // A night of its own for every reservation: the load tests faults, not the calendar.
        const night = this.nights++;
        const checkIn = new Date(Date.UTC(2030, 0, 1) + night * 86_400_000);
        const checkOut = new Date(checkIn.getTime() + 86_400_000);
        const ok = await this.send('reservation', id, {
          type: 'PlaceReservation',
          data: {
            customerId: `c-${(w + n) % CUSTOMERS}`,
            roomId: `r-${n % ROOMS}`,
            checkIn: checkIn.toISOString().slice(0, 10),
            checkOut: checkOut.toISOString().slice(0, 10),
            guests: 1,
          },
        });
        if (ok) open.push({ id, step: 0 });
      } else {
        const r = open[n % open.length]!;
        const type = ['ConfirmReservation', 'CheckInGuest', 'CheckOutGuest'][r.step];
        if (!type || (r.step === 0 && n % 5 === 0)) {
          await this.send('reservation', r.id, { type: 'CancelReservation', data: {} });
          open.splice(open.indexOf(r), 1);
          continue;
        }
        if (await this.send('reservation', r.id, { type, data: {} })) r.step++;
        if (r.step === 3) open.splice(open.indexOf(r), 1);
      }
    }
  }

  stop(): void {
    this.stopping = true;
  }

  /** Sends until acknowledged or refused; true when acknowledged. */
  private async send(streamType: string, id: string, body: unknown): Promise<boolean> {
    const key = randomUUID();
    const deadline = Date.now() + 90_000;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt)));
      }
      if (Date.now() > deadline) {
        this.stats.gaveUp++;
        return false;
      }
      const up = this.instances.filter((i) => i.alive);
      const target = up[this.next++ % Math.max(1, up.length)];
      if (!target) continue;
      let res: Response;
      try {
        res = await fetch(`${target.url}/commands/${streamType}/${id}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
      } catch {
        continue; // killed mid-request, or not listening yet: the same key again
      }
      const text = await res.text().catch(() => '');
      if (res.status === 200 || res.status === 201) {
        const r = JSON.parse(text) as { version: number; events: { type: string }[] };
        this.stats.acked.push({
          streamType,
          streamId: id,
          version: r.version,
          events: r.events.map((e) => e.type),
        });
        return true;
      }
      if (res.status === 409 || res.status === 503) continue;
      if (res.status >= 500) {
        this.stats.serverErrors.push(`${res.status} ${streamType}/${id}: ${text.slice(0, 200)}`);
        continue;
      }
      this.stats.refused++;
      return false;
    }
  }

  get stopped(): boolean {
    return this.stopping;
  }
}
