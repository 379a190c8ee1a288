// Command-centre screen (指挥中心大屏): dark, for a 1920×1080 wall with no scrolling. The
// five-colour map of the user's area in the centre (towns, overall grade), the grade counts and
// the league table on the left, the live major-incident feed (SSE, newest first) on the right,
// a clock and the period on top. It refreshes the grades and the league every 5 minutes.
import { get, itemsOf } from '../api';
import { mountChart, type Chart } from '../charts';
import { levelName } from '../components';
import { clear, errorBox, h, loading } from '../dom';
import { fmtFixed, fmtNum, fmtTime } from '../format';
import { followMajor } from '../live';
import { label, lang, setLang, t } from '../i18n';
import { periodLabel } from '../period';
import { href } from '../router';
import { catalog, findItem, pagesFor, rootUnits, session, shortCode, topUnit } from '../state';
import {
  GRADE_COLORS, GRADES, defaultLevel, gradeChip, gradeCounts, gradeMeaning, gradeName, levelsUnder, listText,
  loadRiskMap, riskMapOption, riskPeriod,
} from '../risk';
import type { Catalog, Incident, League, RiskLevel, RiskMap, UnitInfo } from '../types';

const REFRESH_MS = 5 * 60 * 1000;
const FEED_MAX = 40;
const DESIGN = { width: 1920, height: 1080 };

export function renderCommand(root: HTMLElement, params: URLSearchParams): () => void {
  const me = session.me!;
  const abort = new AbortController();
  const unit = params.get('unit') || shortCode(topUnit(me));
  const period = riskPeriod(params.get('period') || me.default_period);
  const wanted = params.get('level');
  const timers: number[] = [];
  let stopFeed = () => {};
  let chart: Chart | null = null;

  // Top bar: title and area, the period, the clock, language and exit.
  const areaName = h('span', { class: 'cmd-area' });
  const clockDate = h('span', { class: 'cmd-date' });
  const clockTime = h('span', { class: 'cmd-time' });
  const updated = h('span', { class: 'cmd-updated' });
  const tick = () => {
    const now = new Date(Date.now() + 8 * 3600 * 1000); // the city's time (+08:00)
    const pad = (n: number) => String(n).padStart(2, '0');
    const weekday = t('command.weekdays').split(',')[now.getUTCDay()];
    clockDate.textContent = lang() === 'zh'
      ? `${now.getUTCFullYear()}年${now.getUTCMonth() + 1}月${now.getUTCDate()}日 ${weekday}`
      : `${weekday}, ${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`;
    clockTime.textContent = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  };
  tick();
  timers.push(window.setInterval(tick, 1000));
  const exitTarget = pagesFor(me.role).includes('map') ? 'map' : pagesFor(me.role)[0];

  const status = h('span', { class: 'live-status connecting', 'data-testid': 'live-status' }, t('major.connecting'));
  const countsBox = h('div', { class: 'cmd-counts', 'data-testid': 'command-counts' }, loading());
  const leagueBox = h('div', { class: 'cmd-league', 'data-testid': 'command-league' }, loading());
  const mapTitle = h('h2', null, t('command.title'));
  const mapEl = h('div', { class: 'cmd-map', 'data-testid': 'command-map' });
  const mapLegend = h('ul', { class: 'cmd-legend' });
  const mapBox = h('div', { class: 'cmd-map-box' }, mapEl);
  const topBox = h('div', { class: 'cmd-top', 'data-testid': 'command-top' });
  const feed = h('ol', { class: 'cmd-feed', 'data-testid': 'command-feed' });
  const feedEmpty = h('p', { class: 'cmd-empty' }, t('command.noIncidents'));

  const screen = h('div', { class: 'cmd-screen', 'data-testid': 'command-screen' },
    h('header', { class: 'cmd-bar' },
      h('div', { class: 'cmd-brand' },
        h('img', { src: '/favicon.svg', alt: '', width: 40, height: 40 }),
        h('h1', null, t('command.title')),
        areaName),
      h('div', { class: 'cmd-period' },
        h('span', { class: 'cmd-label' }, t('period.label')),
        h('strong', { 'data-testid': 'command-period', 'data-period': period }, periodLabel(period)),
        updated),
      h('div', { class: 'cmd-clock', 'data-testid': 'command-clock' }, clockDate, clockTime),
      h('div', { class: 'cmd-actions' },
        h('button', { type: 'button', class: 'cmd-btn', 'data-testid': 'lang-switch',
          onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh') }, t('lang.switch')),
        h('a', { class: 'cmd-btn', href: href(exitTarget, exitTarget === 'map' ? { unit, period } : undefined),
          'data-testid': 'command-exit' }, t('command.exit')))),
    h('div', { class: 'cmd-grid' },
      h('section', { class: 'cmd-col cmd-left' },
        h('div', { class: 'cmd-panel' }, h('h3', null, t('command.counts')), countsBox),
        h('div', { class: 'cmd-panel grow' }, h('h3', null, t('command.league')), leagueBox)),
      h('section', { class: 'cmd-col cmd-centre' },
        h('div', { class: 'cmd-panel grow map-panel' }, h('div', { class: 'cmd-panel-head' }, mapTitle, mapLegend), mapBox),
        h('div', { class: 'cmd-panel' }, h('h3', null, t('command.top')), topBox)),
      h('section', { class: 'cmd-col cmd-right' },
        h('div', { class: 'cmd-panel grow' },
          h('div', { class: 'cmd-panel-head' }, h('h3', null, t('command.feed')), status),
          h('div', { class: 'cmd-feed-box' }, feed, feedEmpty)))));
  root.appendChild(screen);

  // Laid out for 1920×1080 and scaled to the window (a 1366×768 laptop, a 4K wall) the way
  // big screens are; below 1100 px wide the panels stack instead.
  const fit = () => {
    if (window.innerWidth < 1100) {
      screen.removeAttribute('style');
      screen.classList.remove('scaled');
      return;
    }
    const scale = Math.min(window.innerWidth / DESIGN.width, window.innerHeight / DESIGN.height);
    const x = (window.innerWidth - DESIGN.width * scale) / 2;
    const y = (window.innerHeight - DESIGN.height * scale) / 2;
    screen.classList.add('scaled');
    screen.style.width = `${DESIGN.width}px`;
    screen.style.height = `${DESIGN.height}px`;
    screen.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
  };
  fit();
  window.addEventListener('resize', fit);

  // The grades: counts, map, the highest-risk units.
  let level: RiskLevel = 'town';
  const loadRisk = async () => {
    try {
      const { risk, mapName } = await loadRiskMap(unit, level, period, abort.signal);
      areaName.textContent = risk.unit_name;
      mapTitle.textContent = t('command.map', { unit: risk.unit_name, level: levelName(risk.level) });
      renderCounts(countsBox, risk);
      renderTop(topBox, risk);
      clear(mapLegend);
      const counts = gradeCounts(risk, -1);
      for (const grade of GRADES) {
        mapLegend.appendChild(h('li', { 'data-testid': `command-legend-${grade}` },
          h('span', { class: 'swatch', style: `background:${GRADE_COLORS[grade]}` }),
          `${gradeName(grade)} ${gradeMeaning(grade)}`, h('strong', null, fmtNum(counts[grade]))));
      }
      const option = riskMapOption(risk, mapName, -1, { dark: true, labels: risk.units.length <= 80, fontSize: 13 });
      if (!chart) chart = mountChart(mapEl, option, 'dark');
      else chart.setOption(option);
      mapEl.dataset.unit = risk.unit;
      mapEl.dataset.level = risk.level;
      updated.textContent = t('command.updated', { time: fmtTime(Math.floor(Date.now() / 1000)).slice(11) });
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(countsBox);
      countsBox.appendChild(errorBox(error, () => void loadRisk()));
    }
  };

  const loadLeague = async () => {
    try {
      const league = await get<League>('league', { period, lang: lang() }, abort.signal);
      renderLeague(leagueBox, league);
    } catch (error) {
      if (abort.signal.aborted) return;
      clear(leagueBox);
      leagueBox.appendChild(errorBox(error, () => void loadLeague()));
    }
  };

  // The live feed: the period's latest major incidents, then new ones from the stream on top.
  const seen = new Set<number | string>();
  let cat: Catalog | null = null;
  const add = (incident: Incident, fresh: boolean) => {
    const key = incident.id ?? `${incident.source}/${incident.source_id}`;
    if (seen.has(key)) return;
    seen.add(key);
    const item = feedItem(incident, cat, fresh);
    if (fresh) feed.insertBefore(item, feed.firstChild);
    else feed.appendChild(item);
    while (feed.children.length > FEED_MAX) feed.lastElementChild?.remove();
    feedEmpty.hidden = true;
    if (fresh) timers.push(window.setTimeout(() => item.classList.remove('fresh'), 10000));
  };
  const loadFeed = async () => {
    try {
      const [answer, catalogValue] = await Promise.all([
        get<unknown>('major', { unit, period, limit: FEED_MAX, lang: lang() }, abort.signal),
        catalog(),
      ]);
      cat = catalogValue;
      const { items } = itemsOf<Incident>(answer, 'incidents', 'events');
      const newest = [...items].sort((a, b) => String(b.occurred_at).localeCompare(String(a.occurred_at)));
      for (const incident of newest) add(incident, false);
      feedEmpty.hidden = feed.children.length > 0;
    } catch (error) {
      if (abort.signal.aborted) return;
      feed.replaceWith(errorBox(error));
    }
    stopFeed = followMajor(unit, status, (incident) => add(incident, true), abort.signal);
  };

  const start = async () => {
    try {
      const info = await get<UnitInfo>(`units/${encodeURIComponent(unit)}`, undefined, abort.signal);
      const levels = levelsUnder(info.level);
      level = levels.includes(wanted as RiskLevel) ? (wanted as RiskLevel) : defaultLevel(info.level);
    } catch {
      // the unit's level is only for the default: towns
    }
    void loadRisk();
  };
  void start();
  void loadLeague();
  void loadFeed();
  timers.push(window.setInterval(() => {
    void loadRisk();
    void loadLeague();
  }, REFRESH_MS));

  return () => {
    abort.abort();
    window.removeEventListener('resize', fit);
    for (const id of timers) {
      clearInterval(id);
      clearTimeout(id);
    }
    stopFeed();
  };
}

function renderCounts(box: HTMLElement, risk: RiskMap): void {
  const counts = gradeCounts(risk, -1);
  clear(box);
  for (const grade of GRADES) {
    box.appendChild(h('div', { class: `cmd-count grade-${grade}`, 'data-testid': `count-${grade}`, 'data-count': String(counts[grade]),
      style: `--grade:${GRADE_COLORS[grade]}`, title: gradeMeaning(grade) },
    h('span', { class: 'cmd-count-num' }, fmtNum(counts[grade])),
    h('span', { class: 'cmd-count-name' }, gradeName(grade)),
    h('span', { class: 'cmd-count-meaning' }, gradeMeaning(grade))));
  }
}

function renderTop(box: HTMLElement, risk: RiskMap): void {
  const top = [...risk.units].sort((a, b) => b.score - a.score).slice(0, 6);
  clear(box);
  for (const unit of top) {
    box.appendChild(h('div', { class: 'cmd-top-item', 'data-testid': `command-top-${unit.code}` },
      gradeChip(unit.grade),
      h('span', { class: 'cmd-top-name', title: unit.name }, unit.name),
      h('span', { class: 'cmd-top-score' }, fmtFixed(unit.score, 2)),
      h('span', { class: 'cmd-top-drivers' }, listText(unit.drivers.slice(0, 2)
        .map((id) => label(risk.key_types.find((k) => k.id === id), id))))));
  }
}

function renderLeague(box: HTMLElement, league: League): void {
  const mine = new Set(rootUnits(session.me));
  const rows = [...league.rows].sort((a, b) => a.rank - b.rank);
  clear(box);
  box.appendChild(h('table', { class: 'cmd-league-table' },
    h('thead', null, h('tr', null,
      h('th', null, t('league.rank')), h('th', null, t('league.unit')), h('th', { class: 'num' }, t('league.score')),
      h('th', { class: 'num' }, t('league.change')))),
    h('tbody', null, ...rows.map((row) => {
      const change = row.rank_change;
      const move = change === null || change === undefined || row.previous_rank === null ? '—'
        : change === 0 ? '–' : `${change > 0 ? '▲' : '▼'}${Math.abs(change)}`;
      const tone = !change ? '' : change > 0 ? 'up' : 'down';
      return h('tr', { class: mine.has(row.code) ? 'mine' : '', 'data-testid': `command-league-${row.code}` },
        h('td', null, h('span', { class: `cmd-rank r${row.rank}` }, String(row.rank))),
        h('td', { class: 'name' }, row.name),
        h('td', { class: 'num' }, fmtFixed(row.score, 2)),
        h('td', { class: `num move ${tone}` }, move));
    }))));
}

function feedItem(incident: Incident, cat: Catalog | null, fresh: boolean): HTMLElement {
  const type = findItem(cat?.types, incident.type);
  return h('li', { class: `cmd-incident ${fresh ? 'fresh' : ''}`, 'data-testid': `command-incident-${incident.id}` },
    h('div', { class: 'cmd-incident-head' },
      h('time', { datetime: incident.occurred_at }, fmtTime(incident.occurred_at).slice(5)),
      h('strong', null, label(type, incident.type)),
      fresh ? h('span', { class: 'new-tag' }, t('major.new')) : null),
    h('div', { class: 'cmd-incident-place' }, incident.unit_name ?? incident.address ?? ''),
    incident.rules?.length
      ? h('div', { class: 'cmd-incident-rules' }, ...incident.rules.map((rule) => h('span', { class: 'rule-tag' }, label(findItem(cat?.major, rule), rule))))
      : null);
}
