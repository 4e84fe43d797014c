import { useSession } from './auth/session.tsx';
import { DatasetPage } from './pages/DatasetPage.tsx';
import { JobPage } from './pages/JobPage.tsx';
import { JobsPage } from './pages/JobsPage.tsx';
import { ModelsPage } from './pages/ModelsPage.tsx';
import { NewJobPage } from './pages/NewJobPage.tsx';
import { OcrPage } from './pages/OcrPage.tsx';
import { Link, matchRoute, type Route, usePath } from './router.tsx';

const NAV = [
  { to: '/jobs', label: 'Jobs', section: ['jobs', 'new-job', 'job'] },
  { to: '/models', label: 'Models', section: ['models'] },
  { to: '/dataset', label: 'Dataset', section: ['dataset'] },
  { to: '/ocr', label: 'OCR', section: ['ocr'] },
] as const;

export function Shell() {
  const route = matchRoute(usePath());
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="top-inner">
          <Link to="/" className="brand">
            Training dashboard
          </Link>
          <nav aria-label="Main">
            <ul>
              {NAV.map((item) => (
                <li key={item.to}>
                  <Link
                    to={item.to}
                    aria-current={
                      (item.section as readonly string[]).includes(route.page) ? 'page' : undefined
                    }
                  >
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="who">
            <span className="role">
              {session.authDisabled
                ? 'auth disabled'
                : session.role === 'ADMIN'
                  ? 'admin'
                  : 'viewer (read only)'}
            </span>
            {!session.authDisabled && (
              <button type="button" onClick={session.signOut}>
                Sign out
              </button>
            )}
          </div>
        </div>
      </header>
      <main id="main" className="page">
        <Page route={route} />
      </main>
      <footer className="foot">
        <a href="/graphql">GraphiQL</a> · every view here uses the public GraphQL API
      </footer>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'jobs':
      return <JobsPage />;
    case 'new-job':
      return <NewJobPage />;
    case 'job':
      return <JobPage key={route.id} id={route.id} />;
    case 'models':
      return <ModelsPage />;
    case 'dataset':
      return <DatasetPage />;
    case 'ocr':
      return <OcrPage />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no page here. <Link to="/jobs">Go to the training jobs.</Link>
          </p>
        </>
      );
  }
}
