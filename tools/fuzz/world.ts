import type { RawResponse } from './raw-http';
import type { FuzzRequest } from './requests';

/** The kinds of stream the valid requests name by reference. */
export const KINDS = ['customer', 'room', 'reservation'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * A reference the generators put where an id, a version or a token goes, resolved against
 * the world when the request is sent: `~~customer.7~~` (an existing customer), `~~new.0~~`
 * (an id no stream has), `~~version~~` (the current version of the stream the request's
 * path names), `~~token~~` (the consistency token of a recent command). Only characters a
 * URL, a header and a JSON string carry unencoded.
 */
export const ref = (kind: Kind | 'new', pick: number) => `~~${kind}.${pick}~~`;
export const VERSION_REF = '~~version~~';
export const TOKEN_REF = '~~token~~';
const REF = /~~(?:(customer|room|reservation|new)\.(\d+)|version|token)~~/g;

/** The recent end of a kind's ids, where the follow-up commands of a lifecycle go. */
const RECENT = 8;
/** Events after which a stream takes no more commands (nor placements on it). */
const ENDED =
  /^(CustomerDeactivated|RoomRetired|ReservationCancelled|GuestCheckedOut|ReservationExpired)$/;

/**
 * What the fuzzed system holds, as its acknowledged commands told: the ids of each kind with
 * their versions, and recent consistency tokens. Valid requests are generated with
 * references (above) and resolved here just before they are sent, so that commands follow
 * up on streams earlier requests created (a placement on a registered room and customer, a
 * confirmation of a placed reservation, an If-Match with the stream's real version) and
 * queries ask for ids that exist. Requests are sent one at a time, so a seed still replays.
 */
export class World {
  /** The streams commands may still go to (ended ones are dropped). */
  private readonly ids: Record<Kind, string[]> = { customer: [], room: [], reservation: [] };
  private readonly created: Record<Kind, number> = { customer: 0, room: 0, reservation: 0 };
  private readonly versions = new Map<string, number>();
  private readonly tokens: string[] = [];
  private fresh = 0;

  /** Records a command's 2xx answer (`CommandAccepted`): the stream exists at that version. */
  record(answer: {
    aggregateType?: unknown;
    aggregateId?: unknown;
    version?: unknown;
    events?: unknown;
    consistencyToken?: unknown;
  }): void {
    const { aggregateType: type, aggregateId: id, version, consistencyToken: token } = answer;
    if (typeof type !== 'string' || typeof id !== 'string' || typeof version !== 'number') return;
    if (!(KINDS as readonly string[]).includes(type)) return;
    const kind = type as Kind;
    const key = `${kind}:${id}`;
    if (!this.versions.has(key)) {
      this.ids[kind].push(id);
      this.created[kind]++;
    }
    this.versions.set(key, Math.max(version, this.versions.get(key) ?? 0));
    const events = Array.isArray(answer.events) ? (answer.events as Array<{ type?: unknown }>) : [];
    // An ended stream is no target any more: commands to it, or placements on it, are refused.
    if (events.some((e) => typeof e.type === 'string' && ENDED.test(e.type))) {
      this.ids[kind] = this.ids[kind].filter((x) => x !== id);
    }
    if (typeof token === 'string') {
      this.tokens.push(token);
      if (this.tokens.length > RECENT) this.tokens.shift();
    }
  }

  /** Learns from an answer: a 2xx to a command names a stream and its version. */
  observe(req: FuzzRequest, res: RawResponse): void {
    if (res.status < 200 || res.status > 299 || !req.target.startsWith('/commands/')) return;
    try {
      this.record(JSON.parse(res.body.toString('utf8')) as Record<string, unknown>);
    } catch {
      // not a CommandAccepted (a HEAD, a mutated method): nothing to learn
    }
  }

  /** The streams the fuzzer's commands created, per kind (for the summary). */
  get sizes(): Readonly<Record<Kind, number>> {
    return this.created;
  }

  /** The request with every reference replaced by what it names now. */
  resolve(req: FuzzRequest): FuzzRequest {
    if (
      !req.target.includes('~~') &&
      !req.body?.includes('~~') &&
      !req.headers.some(([, v]) => v.includes('~~'))
    ) {
      return req;
    }
    const target = req.target.replace(REF, (_, kind, pick) => this.id(kind, Number(pick)));
    const stream = /^\/commands\/([^/?]+)\/([^/?]+)/.exec(target);
    const resolve = (s: string) =>
      s.replace(REF, (whole, kind: string | undefined, pick: string | undefined) => {
        if (kind) return this.id(kind as Kind | 'new', Number(pick));
        if (whole === VERSION_REF)
          return String(stream ? (this.versions.get(`${stream[1]}:${stream[2]}`) ?? 0) : 0);
        // The oldest of the recent tokens: most likely projected already.
        return this.tokens[0] ?? 'customer:c-1@1';
      });
    return {
      ...req,
      target,
      headers: req.headers.map(([n, v]) => [n, resolve(v)] as const),
      // Bytes as they are (a mutated body need not be UTF-8): the references are ASCII.
      ...(req.body ? { body: Buffer.from(resolve(req.body.toString('latin1')), 'latin1') } : {}),
    };
  }

  private id(kind: Kind | 'new', pick: number): string {
    if (kind === 'new') return `fz-${this.fresh++}`;
    const ids = this.ids[kind];
    if (ids.length === 0) return `fz-${this.fresh++}`;
    // Half the picks among the newest (a lifecycle's next step), half among all.
    return pick % 2 === 0
      ? ids[ids.length - 1 - ((pick >> 1) % Math.min(RECENT, ids.length))]!
      : ids[(pick >> 1) % ids.length]!;
  }
}
