import { stackDown, stackStatus, stackUp } from './stack';
import type { ServiceName } from './state';

/** `npm run stack -- up|down|status`: the local services every app and test needs. */
const log = (m: string) => console.log(m);

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'up': {
      const started = await stackUp(log);
      console.log(
        started.length
          ? `stack: up (started ${started.map((s) => s.service).join(', ')})`
          : 'stack: up (everything was already running)',
      );
      return;
    }
    case 'down': {
      // `down` stops everything this checkout started; `down elasticsearch ...` only those.
      const only = process.argv
        .slice(3)
        .filter((s): s is ServiceName => ['mysql', 'rabbitmq', 'elasticsearch'].includes(s));
      return stackDown(log, only.length > 0 ? only : undefined);
    }
    case 'status':
      for (const line of await stackStatus()) console.log(line);
      return;
    default:
      console.error('usage: npm run stack -- up | down [service...] | status');
      process.exitCode = 2;
  }
}

// A misconfigured environment must fail within 60 s, never hang.
const watchdog = setTimeout(() => {
  console.error('stack: gave up after 10 minutes');
  process.exit(1);
}, 600_000).unref();

main(process.argv[2]).then(
  () => clearTimeout(watchdog),
  (err: Error) => {
    console.error(`stack: ${err.message}`);
    process.exit(1);
  },
);
