import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { saveCredentials, savedCredentials, whenUnauthorized, type Credentials } from './api';
import { DeadLettersPage } from './dead-letters-page';
import { ProjectionsPage } from './projections-page';
import { StreamsPage } from './streams-page';
import { SystemPage } from './system-page';

type Route =
  | { page: 'system' }
  | { page: 'projections' }
  | { page: 'dead-letters' }
  | { page: 'streams'; type: string; id: string };

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'projections':
      return { page: 'projections' };
    case 'dead-letters':
      return { page: 'dead-letters' };
    case 'streams':
      return { page: 'streams', type: parts[1] ?? '', id: parts[2] ?? '' };
    default:
      return { page: 'system' };
  }
}

/** The token stays in this tab's sessionStorage and goes out in a header only. */
function Login({
  onLogin,
  reason,
}: {
  onLogin: (c: Credentials) => void;
  reason: string | undefined;
}) {
  const [token, setToken] = useState('');
  const [operator, setOperator] = useState('');
  return (
    <form
      class="login"
      onSubmit={(e) => {
        e.preventDefault();
        if (token && operator.trim()) onLogin({ token, operator: operator.trim() });
      }}
    >
      <h2>Sign in</h2>
      {reason ? <p class="error">{reason}</p> : null}
      <label>
        Your name (recorded with every action)
        <input
          name="operator"
          value={operator}
          onInput={(e) => setOperator((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        Admin token (ADMIN_TOKEN)
        <input
          name="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Open the console</button>
    </form>
  );
}

const TABS: ReadonlyArray<readonly [Route['page'], string]> = [
  ['system', 'System'],
  ['projections', 'Projections'],
  ['dead-letters', 'Dead letters'],
  ['streams', 'Streams'],
];

function App() {
  const [route, setRoute] = useState(parse(location.hash));
  const [credentials, setCredentials] = useState(savedCredentials());
  const [reason, setReason] = useState<string>();
  useEffect(() => {
    const onHash = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', onHash);
    whenUnauthorized(() => {
      saveCredentials(null);
      setCredentials(null);
      setReason('The token was refused.');
    });
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return (
    <div>
      <header>
        <h1>cqrs-platform console</h1>
        <nav>
          {TABS.map(([page, label]) => (
            <a key={page} href={`#/${page}`} class={route.page === page ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        {credentials ? (
          <span class="who">
            {credentials.operator}{' '}
            <button
              onClick={() => {
                saveCredentials(null);
                setCredentials(null);
                setReason(undefined);
              }}
            >
              Sign out
            </button>
          </span>
        ) : null}
      </header>
      <main>
        {!credentials ? (
          <Login
            reason={reason}
            onLogin={(c) => {
              saveCredentials(c);
              setCredentials(c);
            }}
          />
        ) : route.page === 'system' ? (
          <SystemPage />
        ) : route.page === 'projections' ? (
          <ProjectionsPage />
        ) : route.page === 'dead-letters' ? (
          <DeadLettersPage />
        ) : (
          <StreamsPage
            type={route.type}
            id={route.id}
            go={(type, id) =>
              (location.hash = `#/streams/${encodeURIComponent(type)}/${encodeURIComponent(id)}`)
            }
          />
        )}
      </main>
    </div>
  );
}

window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral' });
render(<App />, document.getElementById('app')!);
