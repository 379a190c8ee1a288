// Every string the UI shows, in Chinese (first) and English. Labels that come with the data
// (indicator, unit, source and type names) come from the API in both languages.
//
// Usage: t('nav.overview'), t('period.range', { first, last }). The language is kept in
// localStorage ('pingan.lang'); setLang() re-renders through the listener main.ts installs.

const zh = {
  'app.title': '平安法治实时报表',
  'app.brand': '平安',
  'app.subtitle': '平安法治数字化平台',
  'lang.switch': 'English',
  'lang.switchTitle': 'Switch to English',

  'login.title': '登录',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.busy': '正在登录…',
  'login.hint': '请使用管理员分配的账号登录。',
  'login.expired': '登录已失效，请重新登录。',
  'logout': '退出',

  'nav.menu': '菜单',
  'nav.overview': '总览',
  'nav.league': '平安赛马榜',
  'nav.bulletin': '通报',
  'nav.clusters': '聚类分析',
  'nav.major': '重大事件',
  'nav.address': '地址查询',
  'nav.quarantine': '隔离区',
  'nav.audit': '审计日志',

  'role.admin': '系统管理员',
  'role.city_analyst': '市级分析员',
  'role.district_analyst': '区县分析员',
  'role.town_official': '镇街工作人员',
  'role.grid_worker': '网格员',
  'role.auditor': '审计员',

  'level.nation': '全国',
  'level.province': '省',
  'level.city': '市',
  'level.district': '区县',
  'level.town': '镇街',
  'level.community': '村社',
  'level.grid': '网格',
  'level.building': '楼幢',
  'level.entrance': '单元',
  'level.room': '户室',

  'common.loading': '加载中…',
  'common.error': '出错了',
  'common.retry': '重试',
  'common.close': '关闭',
  'common.none': '暂无数据',
  'common.more': '加载更多',
  'common.search': '查询',
  'common.copy': '复制',
  'common.copied': '已复制',
  'common.copyFailed': '复制失败，请手动选择文字复制',
  'common.export': '导出',
  'common.exportCsv': '导出 CSV',
  'common.exportXlsx': '导出 Excel',
  'common.exporting': '正在导出…',
  'common.total': '合计',
  'common.share': '占比',
  'common.value': '数值',
  'common.unit': '单位',
  'common.code': '编码',
  'common.level': '层级',
  'common.open': '查看',
  'common.openOverview': '在总览中查看',
  'common.back': '返回上级',
  'common.homeUnit': '返回本辖区',
  'common.children': '下级单位',
  'common.pickChild': '选择下级单位…',
  'common.noAccess': '无权访问此页面。',
  'common.notFound': '页面不存在。',
  'common.yes': '是',
  'common.no': '否',
  'common.from': '起',
  'common.to': '止',

  'error.network': '无法连接服务器，请检查网络后重试。',
  'error.forbidden': '无权访问',
  'error.status': '服务器返回错误（{status}）',

  'period.day': '日',
  'period.week': '周',
  'period.month': '月',
  'period.quarter': '季',
  'period.year': '年',
  'period.custom': '自定义',
  'period.ytd': '年初至今',
  'period.prev': '上一期',
  'period.next': '下一期',
  'period.apply': '确定',
  'period.label': '统计周期',
  'period.range': '{first} 至 {last}',
  'period.through': '数据截至 {date}',
  'period.incomplete': '本期未结束，按已有天数同口径比较',
  'period.badRange': '请选择有效的起止日期',
  'period.weekN': '第{w}周',
  'period.fmt.year': '{y}年',
  'period.fmt.quarter': '{y}年第{q}季度',
  'period.fmt.month': '{y}年{m}月',
  'period.fmt.week': '{y}年第{w}周',
  'period.fmt.day': '{y}年{m}月{d}日',
  'period.fmt.ytd': '{y}年1月1日至{m}月{d}日',
  'period.fmt.range': '{a} 至 {b}',

  'cmp.yoy': '同比',
  'cmp.mom': '环比',
  'cmp.up': '上升',
  'cmp.down': '下降',
  'cmp.flat': '持平',
  'cmp.new': '新增',
  'cmp.none': '无可比',
  'cmp.sig': '变化显著',
  'cmp.notSig': '变化不显著',
  'cmp.noTest': '金额类指标不做显著性检验',
  'cmp.base': '基期 {period}：{value}',
  'cmp.newBase': '基期为0',

  'overview.title': '平安法治实时报表',
  'overview.keyTypes': '重点事件（五色图九类）',
  'overview.freshness': '数据更新',
  'overview.quiet': '静默{days}天',
  'overview.latest': '最新 {date}',
  'overview.stale': '数据源静默，统计截至 {date}',
  'overview.rate': '日均 {rate} 条',
  'overview.sparkTitle': '近13期走势',
  'overview.trend': '走势',
  'overview.breakdown': '按下级单位分布',
  'overview.unplaced': '未落地',
  'overview.unplacedHint': '已计入本级、未能落到下级单位的事件',
  'overview.drillHint': '点击下级单位可逐级下钻',
  'overview.rank': '序号',
  'overview.noChildren': '本单位没有下级单位。',
  'overview.exportReport': '导出报表',

  'league.title': '平安赛马榜',
  'league.subtitle': '各区县按综合得分排名（各指标每万人口率的标准分加权，越高越好）',
  'league.rank': '排名',
  'league.change': '名次变化',
  'league.unit': '区县',
  'league.score': '综合得分',
  'league.residents': '常住人口',
  'league.weight': '权重 {w}',
  'league.per10k': '每万人 {v}',
  'league.up': '上升{n}位',
  'league.down': '下降{n}位',
  'league.same': '名次不变',
  'league.newRank': '上期无排名',
  'league.chart': '综合得分',
  'league.higherBetter': '越高越好',
  'league.lowerBetter': '越低越好',

  'bulletin.title': '通报',
  'bulletin.subtitle': '本期主要指标情况（可复制后用于文件）',

  'clusters.title': '聚类分析',
  'clusters.subtitle': '七类案事件的类型构成、时段分布与高发单位',
  'clusters.events': '{n} 起',
  'clusters.byType': '类型构成',
  'clusters.byHour': '时段分布（0–23时）',
  'clusters.byWeekday': '星期分布',
  'clusters.topUnits': '高发单位',
  'clusters.hour': '{h}时',
  'clusters.weekdays': '周一,周二,周三,周四,周五,周六,周日',

  'major.title': '重大事件',
  'major.subtitle': '重大案事件实时动态播报',
  'major.live': '实时推送中',
  'major.connecting': '正在连接…',
  'major.offline': '连接中断，正在重连…',
  'major.count': '共 {n} 条',
  'major.new': '新',
  'major.rules': '触发规则',
  'major.source': '来源',
  'major.address': '地址',
  'major.limit': '显示条数',

  'address.title': '地址查询',
  'address.subtitle': '把一段地址文字解析到统一地址库（省—市—区县—镇街—村社—网格—楼幢—户室）',
  'address.placeholder': '输入地址，如：西湖区西溪街道文一路100号',
  'address.status': '结果',
  'address.confidence': '置信度',
  'address.path': '归属路径',
  'address.alternatives': '其他可能',
  'address.formerly': '曾用名',
  'address.formerlyText': '原{name}（{code}），{until} 起调整',
  'address.reason': '原因',
  'address.status.matched': '已匹配',
  'address.status.ambiguous': '有歧义',
  'address.status.unmatched': '未匹配',
  'address.status.invalid': '无效输入',
  'address.corrected': '纠正为',
  'units.title': '单位浏览',
  'units.placeholder': '搜索单位名称，如：西溪',
  'units.results': '搜索结果',
  'units.noResults': '没有找到匹配的单位。',

  'quarantine.title': '隔离区',
  'quarantine.subtitle': '未通过校验的记录：不丢弃、不计入统计，修正配置后可重新处理',
  'quarantine.id': '编号',
  'quarantine.received': '接收时间',
  'quarantine.source': '来源',
  'quarantine.file': '文件:行',
  'quarantine.reason': '原因',
  'quarantine.message': '说明',
  'quarantine.raw': '原始记录',
  'quarantine.sourceId': '源编号',

  'audit.title': '审计日志',
  'audit.subtitle': '登录、退出、查看敏感数据及所有变更，按时间顺序不可篡改地记录',
  'audit.id': '编号',
  'audit.at': '时间',
  'audit.actor': '操作人',
  'audit.action': '动作',
  'audit.target': '对象',
  'audit.detail': '详情',
  'audit.from': '开始日期',
  'audit.to': '结束日期',
  'audit.filter': '筛选',
  'audit.reset': '清除',
};

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  'app.title': 'Safety & Rule of Law Live Report',
  'app.brand': 'Ping An',
  'app.subtitle': 'Safety and rule-of-law governance platform',
  'lang.switch': '中文',
  'lang.switchTitle': '切换到中文',

  'login.title': 'Sign in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'login.hint': 'Use the account your administrator gave you.',
  'login.expired': 'Your session has ended; please sign in again.',
  'logout': 'Sign out',

  'nav.menu': 'Menu',
  'nav.overview': 'Overview',
  'nav.league': 'League table',
  'nav.bulletin': 'Bulletin',
  'nav.clusters': 'Clusters',
  'nav.major': 'Major incidents',
  'nav.address': 'Address lookup',
  'nav.quarantine': 'Quarantine',
  'nav.audit': 'Audit log',

  'role.admin': 'Administrator',
  'role.city_analyst': 'City analyst',
  'role.district_analyst': 'District analyst',
  'role.town_official': 'Town official',
  'role.grid_worker': 'Grid worker',
  'role.auditor': 'Auditor',

  'level.nation': 'Nation',
  'level.province': 'Province',
  'level.city': 'City',
  'level.district': 'District',
  'level.town': 'Town',
  'level.community': 'Community',
  'level.grid': 'Grid',
  'level.building': 'Building',
  'level.entrance': 'Entrance',
  'level.room': 'Room',

  'common.loading': 'Loading…',
  'common.error': 'Something went wrong',
  'common.retry': 'Retry',
  'common.close': 'Close',
  'common.none': 'No data',
  'common.more': 'Load more',
  'common.search': 'Search',
  'common.copy': 'Copy',
  'common.copied': 'Copied',
  'common.copyFailed': 'Could not copy; select the text and copy it by hand',
  'common.export': 'Export',
  'common.exportCsv': 'Export CSV',
  'common.exportXlsx': 'Export Excel',
  'common.exporting': 'Exporting…',
  'common.total': 'Total',
  'common.share': 'Share',
  'common.value': 'Value',
  'common.unit': 'Unit',
  'common.code': 'Code',
  'common.level': 'Level',
  'common.open': 'Open',
  'common.openOverview': 'Open in overview',
  'common.back': 'Up one level',
  'common.homeUnit': 'Back to my area',
  'common.children': 'Sub-units',
  'common.pickChild': 'Go to a sub-unit…',
  'common.noAccess': 'You may not use this page.',
  'common.notFound': 'No such page.',
  'common.yes': 'yes',
  'common.no': 'no',
  'common.from': 'From',
  'common.to': 'To',

  'error.network': 'Cannot reach the server; check the network and retry.',
  'error.forbidden': 'Not allowed',
  'error.status': 'The server answered with an error ({status})',

  'period.day': 'Day',
  'period.week': 'Week',
  'period.month': 'Month',
  'period.quarter': 'Quarter',
  'period.year': 'Year',
  'period.custom': 'Custom',
  'period.ytd': 'Year to date',
  'period.prev': 'Previous period',
  'period.next': 'Next period',
  'period.apply': 'Apply',
  'period.label': 'Period',
  'period.range': '{first} to {last}',
  'period.through': 'Data through {date}',
  'period.incomplete': 'Period not over: compared over the same days',
  'period.badRange': 'Choose a valid start and end date',
  'period.weekN': 'W{w}',
  'period.fmt.year': '{y}',
  'period.fmt.quarter': 'Q{q} {y}',
  'period.fmt.month': '{mon} {y}',
  'period.fmt.week': 'Week {w}, {y}',
  'period.fmt.day': '{d} {mon} {y}',
  'period.fmt.ytd': '1 Jan to {d} {mon} {y}',
  'period.fmt.range': '{a} to {b}',

  'cmp.yoy': 'YoY',
  'cmp.mom': 'MoM',
  'cmp.up': 'up',
  'cmp.down': 'down',
  'cmp.flat': 'flat',
  'cmp.new': 'new',
  'cmp.none': 'n/a',
  'cmp.sig': 'significant',
  'cmp.notSig': 'not significant',
  'cmp.noTest': 'sums of money are not tested for significance',
  'cmp.base': 'base {period}: {value}',
  'cmp.newBase': 'base was 0',

  'overview.title': 'Safety & Rule of Law Live Report',
  'overview.keyTypes': 'Key event types (five-colour map)',
  'overview.freshness': 'Data updated',
  'overview.quiet': 'quiet {days} d',
  'overview.latest': 'latest {date}',
  'overview.stale': 'source quiet; counted through {date}',
  'overview.rate': '{rate} records a day',
  'overview.sparkTitle': 'Last 13 periods',
  'overview.trend': 'Trend',
  'overview.breakdown': 'By sub-unit',
  'overview.unplaced': 'Unplaced',
  'overview.unplacedHint': 'Counted at this unit but placed on none of its sub-units',
  'overview.drillHint': 'Click a sub-unit to drill down',
  'overview.rank': '#',
  'overview.noChildren': 'This unit has no sub-units.',
  'overview.exportReport': 'Export report',

  'league.title': 'League table',
  'league.subtitle': 'District-level units ranked by a composite score (weighted z-scores of rates per 10,000 residents; higher is better)',
  'league.rank': 'Rank',
  'league.change': 'Change',
  'league.unit': 'Unit',
  'league.score': 'Score',
  'league.residents': 'Residents',
  'league.weight': 'weight {w}',
  'league.per10k': '{v} per 10k',
  'league.up': 'up {n}',
  'league.down': 'down {n}',
  'league.same': 'unchanged',
  'league.newRank': 'no previous rank',
  'league.chart': 'Composite score',
  'league.higherBetter': 'higher is better',
  'league.lowerBetter': 'lower is better',

  'bulletin.title': 'Bulletin',
  'bulletin.subtitle': 'The period in sentences (copy it into a document)',

  'clusters.title': 'Cluster analysis',
  'clusters.subtitle': 'The 7 domains by type, hour of day, weekday and top sub-units',
  'clusters.events': '{n} events',
  'clusters.byType': 'By type',
  'clusters.byHour': 'By hour of day (0–23)',
  'clusters.byWeekday': 'By weekday',
  'clusters.topUnits': 'Top sub-units',
  'clusters.hour': '{h}:00',
  'clusters.weekdays': 'Mon,Tue,Wed,Thu,Fri,Sat,Sun',

  'major.title': 'Major incidents',
  'major.subtitle': 'Live feed of major incidents',
  'major.live': 'Live',
  'major.connecting': 'Connecting…',
  'major.offline': 'Disconnected; reconnecting…',
  'major.count': '{n} incidents',
  'major.new': 'new',
  'major.rules': 'Rules',
  'major.source': 'Source',
  'major.address': 'Address',
  'major.limit': 'Show',

  'address.title': 'Address lookup',
  'address.subtitle': 'Resolve address text to the unified address library (province down to room)',
  'address.placeholder': 'An address, e.g. 西湖区西溪街道文一路100号',
  'address.status': 'Result',
  'address.confidence': 'Confidence',
  'address.path': 'Path',
  'address.alternatives': 'Alternatives',
  'address.formerly': 'Formerly',
  'address.formerlyText': 'formerly {name} ({code}), changed {until}',
  'address.reason': 'Reason',
  'address.status.matched': 'matched',
  'address.status.ambiguous': 'ambiguous',
  'address.status.unmatched': 'unmatched',
  'address.status.invalid': 'invalid',
  'address.corrected': 'Corrected to',
  'units.title': 'Unit browser',
  'units.placeholder': 'Search a unit by name, e.g. 西溪',
  'units.results': 'Results',
  'units.noResults': 'No unit matches.',

  'quarantine.title': 'Quarantine',
  'quarantine.subtitle': 'Records that failed validation: kept, not counted, retried after a config fix',
  'quarantine.id': 'ID',
  'quarantine.received': 'Received',
  'quarantine.source': 'Source',
  'quarantine.file': 'File:line',
  'quarantine.reason': 'Reason',
  'quarantine.message': 'Message',
  'quarantine.raw': 'Raw record',
  'quarantine.sourceId': 'Source id',

  'audit.title': 'Audit log',
  'audit.subtitle': 'Logins, logouts, reads of personal data and every change, in a tamper-evident chain',
  'audit.id': 'ID',
  'audit.at': 'Time',
  'audit.actor': 'Actor',
  'audit.action': 'Action',
  'audit.target': 'Target',
  'audit.detail': 'Detail',
  'audit.from': 'From date',
  'audit.to': 'To date',
  'audit.filter': 'Filter',
  'audit.reset': 'Clear',
};

export type Lang = 'zh' | 'en';
const messages: Record<Lang, Record<MessageKey, string>> = { zh, en };
const STORAGE_KEY = 'pingan.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'zh' || saved === 'en') return saved;
  } catch {
    // storage may be disabled: fall through to Chinese
  }
  return 'zh';
}

let current: Lang = initialLang();
const listeners: Array<() => void> = [];

export function lang(): Lang {
  return current;
}

// The BCP 47 tag for Intl and <html lang>.
export function locale(): string {
  return current === 'zh' ? 'zh-CN' : 'en';
}

export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not persisted; still switched for this page
  }
  document.documentElement.lang = locale();
  for (const listener of listeners) listener();
}

export function onLangChange(listener: () => void): void {
  listeners.push(listener);
}

// The message in the current language with {name} placeholders filled in.
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = messages[current][key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

// A bilingual label from the API ({zh, en} fields) in the current language.
export function label(item: { zh?: string; en?: string; name?: string } | undefined, fallback = ''): string {
  if (!item) return fallback;
  const text = current === 'zh' ? item.zh ?? item.en : item.en ?? item.zh;
  return text ?? item.name ?? fallback;
}
