// The JSON shapes of the HTTP API (equal to the CLI's --json output; docs/report.md).

export type Role = 'admin' | 'city_analyst' | 'district_analyst' | 'town_official' | 'grid_worker' | 'auditor';

export interface UnitRef {
  code: string;
  name: string;
  level: string;
}

export interface Me {
  name: string;
  role: Role;
  scopes: UnitRef[];
  home: { code: string; name: string; level?: string };
  default_period: string;
  latest_day: string;
}

export interface LoginAnswer {
  token: string;
  expires_at: number | string;
  user: { name: string; role: Role; scopes: unknown[] };
}

export interface Bilingual {
  zh: string;
  en: string;
}

export interface Comparison {
  period: string;
  value: number;
  change_pct: number | null;
  new: boolean;
  significant: boolean | null;
  p_value?: number | null;
}

export interface IndicatorFigure {
  id: string;
  zh: string;
  en: string;
  unit: Bilingual;
  higher_is_better: boolean;
  value: number;
  yoy: Comparison | null;
  mom: Comparison | null;
  through: string;
  stale: boolean;
}

export interface Freshness {
  source: string;
  zh: string;
  en: string;
  latest: string | null;
  silent_days: number;
  daily_rate: number;
  quiet: boolean;
}

export interface Report {
  unit: string;
  unit_name: string;
  level: string;
  period: string;
  first: string;
  last: string;
  through: string;
  complete: boolean;
  indicators: IndicatorFigure[];
  key_types: IndicatorFigure[];
  freshness: Freshness[];
}

export interface Series {
  unit: string;
  unit_name: string;
  indicator: string;
  points: Array<{ period: string; value: number }>;
}

export interface BreakdownRow {
  code: string | null;
  name: string;
  name_en?: string;
  value: number;
  unplaced: boolean;
}

export interface Breakdown {
  unit: string;
  unit_name: string;
  indicator: string;
  period: string;
  rows: BreakdownRow[];
}

export interface LeagueRow {
  code: string;
  name: string;
  rank: number;
  previous_rank: number | null;
  rank_change: number | null;
  score: number;
  residents: number;
  indicators: Record<string, { value: number; per_10k: number }>;
}

export interface League {
  period: string;
  through: string;
  weights: Array<{ indicator: string; weight: number }>;
  rows: LeagueRow[];
}

export interface Bulletin {
  unit: string;
  period: string;
  zh?: string;
  en?: string;
  text?: string;
}

export interface ClusterDomain {
  domain: string;
  zh: string;
  en: string;
  events: number;
  by_type: Array<{ type: string; zh?: string; en?: string; events: number }>;
  by_hour: number[];
  by_weekday: number[];
  top_units: Array<{ code: string; name: string; events: number }>;
}

export interface Clusters {
  unit: string;
  unit_name: string;
  period: string;
  domains: ClusterDomain[];
}

export interface Incident {
  id: number;
  source: string;
  source_id: string;
  type: string;
  occurred_at: string;
  unit: string | null;
  unit_name?: string;
  address?: string;
  attributes?: Record<string, unknown>;
  rules?: string[];
}

export interface CatalogItem {
  id: string;
  zh: string;
  en: string;
  domain?: string;
  source?: string;
  higher_is_better?: boolean;
  unit?: Bilingual;
}

export interface Catalog {
  sources: CatalogItem[];
  domains: CatalogItem[];
  types: CatalogItem[];
  attributes: Array<{ name: string; kind: string; zh: string; en: string; personal: boolean }>;
  indicators: CatalogItem[];
  key_types: CatalogItem[];
  major: CatalogItem[];
}

export interface UnitInfo {
  code: string;
  name: string;
  level: string;
  path?: UnitRef[];
  children?: UnitRef[];
}

export interface GeocodeResult {
  input?: string;
  status: 'matched' | 'ambiguous' | 'unmatched' | 'invalid' | string;
  code?: string;
  level?: string;
  confidence: number;
  path?: UnitRef[];
  alternatives?: Array<UnitRef & { path?: UnitRef[]; confidence?: number }>;
  formerly?: { code: string; name: string; until: string };
  corrected?: string;
  reason?: string;
  distance_m?: number; // points: to the nearest building, when one was chosen
}

// One stored event as GET /api/events lists it (personal attributes masked).
export interface StoredEventItem {
  id: number;
  source: string;
  source_id: string;
  type: string;
  occurred_at: string;
  status: string;
  attributes?: Record<string, string | number | boolean>;
  unit: string;
  level: string;
  placed_by: string;
  counted?: boolean;
  address?: string;
  code?: string;
}

export interface Page<T> {
  items: T[];
  next?: string | number | null;
}

export interface QuarantineRecord {
  id: number;
  file?: string;
  line?: number;
  message?: string;
  raw?: string;
  reason?: string;
  received_at?: string | number;
  source?: string;
  source_id?: string;
}

export interface AuditEntry {
  id: number;
  at: string | number;
  actor: string;
  action: string;
  target?: string;
  detail?: string;
}

// The five-colour risk map (GET /api/risk, /api/risk/unit, /api/geojson, /api/warnings).
export type Grade = 'red' | 'orange' | 'yellow' | 'blue' | 'green';
export type RiskLevel = 'district' | 'town' | 'community' | 'grid';

export interface KeyType {
  id: string;
  zh: string;
  en: string;
}

export interface RiskUnit {
  code: string;
  name: string;
  grade: Grade;
  grade_zh: string;
  score: number;
  complexity: number;
  previous: Grade | null;
  drivers: string[];
  counts: number[];
  indexes: number[];
  key_grades: Grade[];
}

export interface RiskMap {
  unit: string;
  unit_name: string;
  level: RiskLevel;
  period: string;
  key_types: KeyType[];
  level_rate: number[];
  thresholds: Array<number | null>;
  counts: Record<Grade, number>;
  units: RiskUnit[];
}

export interface RiskDimension {
  key_type: string;
  zh: string;
  en: string;
  weight: number;
  count: number;
  expected: number;
  raw: number;
  eb_global: number;
  eb_local: number;
  index: number;
}

export interface RiskExplanation {
  code: string;
  name: string;
  level: RiskLevel;
  period: string;
  grade: Grade;
  grade_zh: string;
  raw_grade: Grade;
  score: number;
  previous: Grade | null;
  previous_score: number | null;
  complexity: number;
  complexity_imputed: boolean;
  drivers: string[];
  dimensions: RiskDimension[];
  level_rate: number[];
  history: Array<{ period: string; grade: Grade; score: number }>;
}

export interface GeoFeature {
  type: 'Feature';
  properties: { code: string; name: string };
  geometry: { type: string; coordinates: unknown } | null;
}

export interface GeoCollection {
  type: 'FeatureCollection';
  features: GeoFeature[];
}

export interface RiskWarning {
  id: number;
  unit: string;
  unit_name: string;
  level: string;
  key_type: string;
  period: string;
  grade: Grade;
  score: number;
  evidence: {
    count?: number;
    expected?: number;
    index?: number;
    complexity?: number;
    score?: number;
    previous_grade?: Grade | null;
    previous_score?: number | null;
    entering?: boolean;
    drivers?: unknown;
  } | null;
  grids: string[];
  created_at: string;
  tasks?: number; // tasks made from it so far
}

// The closed loop (warning → patrol task → handling → feedback → review): GET /api/tasks.
export type TaskState = 'issued' | 'accepted' | 'in_progress' | 'submitted' | 'returned' | 'closed';
export type TaskAction = 'accept' | 'start' | 'submit' | 'close' | 'return' | 'reassign';
export type TaskOutcome = 'confirmed' | 'false_alarm' | 'resolved' | 'needs_escalation';

export interface TaskPhoto {
  id: number;
  mime: string;
  bytes: number;
  url: string;
}

export interface TaskHistoryEntry {
  version: number;
  action: string;
  from: TaskState | null;
  to: TaskState | null;
  actor: string;
  at: string;
  detail?: string | null;
}

export interface Task {
  id: number;
  version: number;
  state: TaskState;
  origin: string;
  warning_id: number | null;
  unit: string;
  unit_name: string;
  path?: UnitRef[];
  town?: string;
  town_name?: string;
  key_type: string;
  key_type_name?: string;
  key_type_name_en?: string;
  grade: Grade;
  score: number;
  period: string;
  title: string;
  title_en?: string;
  checklist?: string[];
  checklist_en?: string[];
  assignee: string | null;
  candidates?: string[];
  queue?: 'worker' | 'town' | string;
  created_at: string;
  deadline: string;
  overdue: boolean;
  escalated?: boolean;
  accepted_at: string | null;
  submitted_at: string | null;
  closed_at: string | null;
  outcome: TaskOutcome | null;
  feedback: string | null;
  returns: number;
  photos?: TaskPhoto[]; // the detail and an action's answer (lists and events: photo_count only)
  photo_count?: number;
  actions: TaskAction[];
  history?: TaskHistoryEntry[];
}

export interface TaskAnswer {
  task: Task;
  replayed?: boolean;
}

export interface LoopFigures {
  warnings: number;
  landed: number;
  landed_share: number | null;
  tasks: number;
  open: number;
  closed: number;
  on_time: number;
  overdue: number;
  median_accept_seconds: number | null;
  median_close_seconds: number | null;
  outcomes: Record<TaskOutcome, number>;
}

export interface LoopMetrics {
  unit: string;
  unit_name: string;
  period: string;
  total: LoopFigures;
  rows: Array<LoopFigures & { code: string; name: string; level: string }>;
}
