// The app shell: login first, then a header with the pages the role may use, the language
// switch and logout; each page renders into <main> and returns its cleanup.
import './styles.css';
import { onUnauthorized, post, setToken, token } from './api';
import { disposeCharts } from './palette';
import { clear, errorBox, h, loading } from './dom';
import { lang, locale, onLangChange, setLang, t, type MessageKey } from './i18n';
import { currentRoute, go, markShown, pageHref, replaceRoute } from './router';
import { ALL_PAGES, allowedPages, loadSession, pagesFor, resetSession, session, type PageId } from './state';
import { renderLogin } from './pages/login';
import { renderOverview } from './pages/overview';

export type Cleanup = () => void;
export type PageRenderer = (root: HTMLElement, params: URLSearchParams) => Cleanup | void;

// A page loaded when first opened (its code, and ECharts for the pages that chart, stay out of
// the first load, which is the Overview's). The page renders into `root` once its module is
// in; leaving before that cancels it.
function lazy<M>(load: () => Promise<M>, pick: (module: M) => PageRenderer): PageRenderer {
  return (root, params) => {
    let cancelled = false;
    let inner: Cleanup | void;
    root.appendChild(loading());
    load().then((module) => {
      if (cancelled) return;
      clear(root);
      inner = pick(module)(root, params);
    }, (error) => {
      if (cancelled) return;
      clear(root);
      root.appendChild(errorBox(error, () => location.reload()));
    });
    return () => {
      cancelled = true;
      if (inner) inner();
    };
  };
}

const PAGES: Record<PageId, { title: MessageKey; render: PageRenderer }> = {
  overview: { title: 'nav.overview', render: renderOverview },
  map: { title: 'nav.map', render: lazy(() => import('./pages/map'), (m) => m.renderMap) },
  league: { title: 'nav.league', render: lazy(() => import('./pages/league'), (m) => m.renderLeague) },
  bulletin: { title: 'nav.bulletin', render: lazy(() => import('./pages/bulletin'), (m) => m.renderBulletin) },
  clusters: { title: 'nav.clusters', render: lazy(() => import('./pages/clusters'), (m) => m.renderClusters) },
  major: { title: 'nav.major', render: lazy(() => import('./pages/major'), (m) => m.renderMajor) },
  address: { title: 'nav.address', render: lazy(() => import('./pages/address'), (m) => m.renderAddress) },
  command: { title: 'nav.command', render: lazy(() => import('./pages/command'), (m) => m.renderCommand) },
  quarantine: { title: 'nav.quarantine', render: lazy(() => import('./pages/quarantine'), (m) => m.renderQuarantine) },
  audit: { title: 'nav.audit', render: lazy(() => import('./pages/audit'), (m) => m.renderAudit) },
  events: { title: 'nav.events', render: lazy(() => import('./pages/events'), (m) => m.renderEvents) },
  tasks: { title: 'nav.tasks', render: lazy(() => import('./pages/tasks'), (m) => m.renderTasks) },
  task: { title: 'nav.task', render: lazy(() => import('./pages/task'), (m) => m.renderTask) },
  dispatch: { title: 'nav.dispatch', render: lazy(() => import('./pages/dispatch'), (m) => m.renderDispatch) },
};

const USES_UNIT: ReadonlySet<PageId> = new Set(['overview', 'map', 'bulletin', 'clusters', 'major']);
// Full-screen pages: no app header (the command-centre screen has its own top bar).
const FULL_SCREEN: ReadonlySet<PageId> = new Set(['command']);

const app = document.getElementById('app')!;
let cleanup: Cleanup | null = null;
let loginNotice = '';
let returnTo = '';

function teardown(): void {
  if (cleanup) {
    try {
      cleanup();
    } catch {
      // a page's cleanup must never block the next page
    }
  }
  cleanup = null;
  disposeCharts();
  document.body.classList.remove('full-screen');
}

function langButton(): HTMLElement {
  return h('button', {
    type: 'button', class: 'btn ghost lang-switch', 'data-testid': 'lang-switch', title: t('lang.switchTitle'),
    onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh'),
  }, t('lang.switch'));
}

function header(active: string): HTMLElement {
  const me = session.me!;
  const pages = pagesFor(me.role);
  const nav = h('nav', { class: 'main-nav', id: 'main-nav', 'data-testid': 'nav' },
    ...pages.map((page) => h('a', {
      href: pageHref(page), class: page === active ? 'active' : '', 'data-testid': `nav-${page}`,
      'aria-current': page === active ? 'page' : null,
      onclick: () => document.body.classList.remove('nav-open'),
    }, t(PAGES[page].title))));
  const menu = h('button', {
    type: 'button', class: 'btn ghost menu-toggle', 'aria-controls': 'main-nav', 'aria-label': t('nav.menu'),
    'data-testid': 'menu-toggle',
    onclick: () => document.body.classList.toggle('nav-open'),
  }, '☰');
  const logout = h('button', {
    type: 'button', class: 'btn ghost', 'data-testid': 'logout',
    onclick: async () => {
      try {
        await post('logout');
      } catch {
        // the session ends here whatever the server said
      }
      setToken(null);
      resetSession();
      loginNotice = '';
      returnTo = '';
      go('login');
    },
  }, t('logout'));
  return h('header', { class: 'app-header' },
    h('div', { class: 'brand' }, menu,
      h('a', { href: pageHref(pages[0]), class: 'brand-link' },
        h('img', { src: '/favicon.svg', alt: '', width: 28, height: 28 }),
        h('span', { class: 'brand-name' }, t('app.brand')),
        h('span', { class: 'brand-sub' }, t('app.title')))),
    nav,
    h('div', { class: 'user-box' },
      langButton(),
      h('span', { class: 'user', 'data-testid': 'user', title: t(`role.${me.role}` as MessageKey) },
        h('span', { class: 'user-name' }, me.name),
        h('span', { class: 'role-tag' }, t(`role.${me.role}` as MessageKey))),
      logout));
}

async function render(): Promise<void> {
  teardown();
  document.documentElement.lang = locale();
  document.body.classList.remove('nav-open', 'full-screen');
  const route = currentRoute();
  markShown();

  if (!token()) {
    if (route.page && route.page !== 'login') returnTo = location.hash;
    showLogin();
    return;
  }
  if (!session.me) {
    clear(app);
    app.appendChild(h('div', { class: 'center-page' }, loading()));
    try {
      await loadSession();
    } catch (error) {
      if (!token()) return; // a 401: the handler has shown the login page
      clear(app);
      app.appendChild(h('div', { class: 'center-page' }, errorBox(error, () => void render())));
      return;
    }
  }
  const allowed = allowedPages(session.me!.role);
  if (route.page === 'login' || !route.page) {
    go(pagesFor(session.me!.role)[0]);
    return;
  }
  const page = route.page as PageId;
  clear(app);
  const fullScreen = FULL_SCREEN.has(page) && allowed.includes(page);
  if (fullScreen) document.body.classList.add('full-screen');
  else app.appendChild(header(page === 'task' ? 'tasks' : page));
  const main = h('main', { class: fullScreen ? `page-full page-${page}` : 'page', id: 'page', 'data-testid': `page-${page}` });
  app.appendChild(main);
  if (!ALL_PAGES.includes(page)) {
    main.appendChild(errorBox(new Error(t('common.notFound'))));
    return;
  }
  if (!allowed.includes(page)) {
    main.appendChild(errorBox(new Error(t('common.noAccess'))));
    return;
  }
  // The shared unit and period, when the URL names them.
  const unit = route.params.get('unit');
  const period = route.params.get('period');
  if (unit) session.unit = unit;
  if (period) session.period = period;
  if (route.id) route.params.set('id', route.id);
  if (USES_UNIT.has(page) && (!unit || !period)) {
    // Name them in the URL, so that a reload or a shared link shows the same figures.
    route.params.set('unit', session.unit);
    route.params.set('period', session.period);
    replaceRoute(`#/${page}?${route.params}`);
  }
  document.title = `${t(PAGES[page].title)} · ${t('app.title')}`;
  try {
    cleanup = PAGES[page].render(main, route.params) ?? null;
  } catch (error) {
    main.appendChild(errorBox(error));
  }
}

function showLogin(): void {
  clear(app);
  document.title = `${t('login.title')} · ${t('app.title')}`;
  app.appendChild(renderLogin({
    notice: loginNotice,
    langButton: langButton(),
    onDone: () => {
      loginNotice = '';
      const target = returnTo;
      returnTo = '';
      resetSession();
      const next = target && !target.startsWith('#/login') ? target : '#/';
      if (location.hash !== next) location.hash = next;
      else void render();
    },
  }));
}

onUnauthorized(() => {
  const route = currentRoute();
  if (route.page && route.page !== 'login') returnTo = location.hash;
  resetSession();
  loginNotice = t('login.expired');
  teardown();
  if (location.hash !== '#/login') location.hash = '#/login';
  else showLogin();
});

window.addEventListener('hashchange', () => void render());
onLangChange(() => void render());
void render();
