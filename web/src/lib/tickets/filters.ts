/** Ticket list filters ⇄ the page's query string ⇄ the API's query parameters. */
import type { SlaState, TicketListQuery, TicketPriority, TicketSort, TicketStatus, TicketType } from '$lib/api/types';
import { OPEN_STATUSES, PRIORITIES, STATUSES, TYPES } from './meta';
import { SLA_STATES } from './sla';

export interface TicketFilters {
	status: TicketStatus[];
	type: TicketType[];
	priority: TicketPriority[];
	/** Label names, as the API's `tags`. */
	tags: string[];
	/** `me`, `none`, a user id, or '' for anyone. */
	assignee: string;
	/** `mine` (any team the caller is in), `none`, a team id, or '' for any (staff only). */
	team: string;
	q: string;
	/** Only tickets whose submitter awaits an answer (staff only). */
	customerReplied: boolean;
	/** Custom field filters, as the API's `cf.<key>`: any of the values. */
	cf: Record<string, string[]>;
	/** Only tickets in these SLA states (staff only). */
	sla: SlaState[];
	sort: TicketSort;
}

export const SORTS: { value: TicketSort; label: string }[] = [
	{ value: '-created', label: 'Newest first' },
	{ value: 'created', label: 'Oldest first' },
	{ value: '-updated', label: 'Recently updated' },
	{ value: 'updated', label: 'Least recently updated' },
	{ value: '-priority', label: 'Highest priority' },
	{ value: 'priority', label: 'Lowest priority' }
];
const RELEVANCE = { value: 'relevance', label: 'Relevance' } as const;
/** Staff only: overdue first, then the soonest SLA due time. */
const SLA_DUE = { value: 'sla_due', label: 'SLA due soonest' } as const;
const SORT_VALUES = new Set<string>([...SORTS, RELEVANCE, SLA_DUE].map((s) => s.value));
/** A sort by a custom field's value (`-` for descending). */
const FIELD_SORT = /^-?cf\.[a-z][a-z0-9_]{0,39}$/;
export const DEFAULT_SORT: TicketSort = '-created';

/** The sorts to offer: "Relevance" only while there is a search, "SLA due" to staff. */
export function sortsFor(filters: TicketFilters, { staff = false }: { staff?: boolean } = {}): { value: TicketSort; label: string }[] {
	const sorts = staff ? [...SORTS, SLA_DUE] : SORTS;
	return filters.q.trim() ? [RELEVANCE, ...sorts] : sorts;
}

export function emptyFilters(overrides: Partial<TicketFilters> = {}): TicketFilters {
	return { status: [], type: [], priority: [], tags: [], assignee: '', team: '', q: '', customerReplied: false, cf: {}, sla: [], sort: DEFAULT_SORT, ...overrides };
}

function pick<T extends string>(values: string[], allowed: readonly T[]): T[] {
	const set = new Set<string>(allowed);
	return [...new Set(values.filter((v) => set.has(v)))] as T[];
}

/** Read filters from a URL's search params, ignoring unknown values (hand-edited URLs stay harmless). */
export function filtersFromSearchParams(params: URLSearchParams, defaults: Partial<TicketFilters> = {}): TicketFilters {
	const base = emptyFilters(defaults);
	const sort = params.get('sort');
	const cf: Record<string, string[]> = {};
	for (const [name, value] of params) {
		if (FIELD_SORT.test(name) && !name.startsWith('-') && value) cf[name.slice(3)] = [...new Set([...(cf[name.slice(3)] ?? []), value])];
	}
	return {
		status: params.has('status') ? pick(params.getAll('status'), STATUSES) : base.status,
		type: pick(params.getAll('type'), TYPES),
		priority: pick(params.getAll('priority'), PRIORITIES),
		// `tag` is how links made before the rename wrote it.
		tags: [...new Set([...params.getAll('tags'), ...params.getAll('tag')].filter(Boolean))],
		assignee: params.has('assignee') ? (params.get('assignee') ?? '') : base.assignee,
		team: params.has('team') ? (params.get('team') ?? '') : base.team,
		q: params.get('q') ?? '',
		customerReplied: params.has('customer_replied') ? params.get('customer_replied') === 'true' : base.customerReplied,
		cf,
		sla: pick(params.getAll('sla'), SLA_STATES),
		sort: sort && (SORT_VALUES.has(sort) || FIELD_SORT.test(sort)) ? (sort as TicketSort) : base.sort
	};
}

/** Write filters to search params, leaving out what equals the view's defaults so URLs stay short. */
export function filtersToSearchParams(filters: TicketFilters, defaults: Partial<TicketFilters> = {}): URLSearchParams {
	const base = emptyFilters(defaults);
	const params = new URLSearchParams();
	const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
	if (!sameList(filters.status, base.status)) {
		if (filters.status.length) filters.status.forEach((s) => params.append('status', s));
		else params.append('status', ''); // explicit "any status" differs from the view's default
	}
	filters.type.forEach((t) => params.append('type', t));
	filters.priority.forEach((p) => params.append('priority', p));
	filters.tags.forEach((t) => params.append('tags', t));
	if (filters.assignee !== base.assignee) params.set('assignee', filters.assignee);
	if (filters.team !== base.team) params.set('team', filters.team);
	if (filters.q.trim()) params.set('q', filters.q.trim());
	if (filters.customerReplied !== base.customerReplied) params.set('customer_replied', String(filters.customerReplied));
	for (const [key, values] of Object.entries(filters.cf)) values.forEach((v) => params.append(`cf.${key}`, v));
	filters.sla.forEach((s) => params.append('sla', s));
	if (filters.sort !== base.sort) params.set('sort', filters.sort);
	return params;
}

/** The API query for these filters (relevance needs a search: without one, the default sort). */
export function filtersToApiQuery(filters: TicketFilters, extra: { limit?: number; cursor?: string | null } = {}): TicketListQuery {
	const query: TicketListQuery = { sort: filters.sort === 'relevance' && !filters.q.trim() ? DEFAULT_SORT : filters.sort };
	if (filters.status.length) query.status = filters.status;
	if (filters.type.length) query.type = filters.type;
	if (filters.priority.length) query.priority = filters.priority;
	if (filters.tags.length) query.tags = filters.tags;
	if (filters.assignee) query.assignee = filters.assignee;
	if (filters.team) query.team = filters.team;
	if (filters.q.trim()) query.q = filters.q.trim();
	if (filters.customerReplied) query.customer_replied = true;
	// Custom field filters: parameters the API names by pattern (`cf.<key>`), not one by one.
	for (const [key, values] of Object.entries(filters.cf)) if (values.length) (query as Record<string, unknown>)[`cf.${key}`] = values;
	if (filters.sla.length) query.sla = filters.sla;
	if (extra.limit) query.limit = extra.limit;
	if (extra.cursor) query.cursor = extra.cursor;
	return query;
}

/**
 * What a triage view searches: a search looks through every ticket, so while there is one
 * the view's own scope (its statuses, assignee, "customer replied") is lifted; filters the
 * user picked themselves still apply.
 */
export function searchEverywhere(filters: TicketFilters, defaults: Partial<TicketFilters>): TicketFilters {
	if (!filters.q.trim()) return filters;
	const base = emptyFilters();
	const scope = emptyFilters(defaults);
	return {
		...filters,
		status: filters.status.join() === scope.status.join() ? base.status : filters.status,
		assignee: filters.assignee === scope.assignee ? base.assignee : filters.assignee,
		team: filters.team === scope.team ? base.team : filters.team,
		customerReplied: filters.customerReplied === scope.customerReplied ? base.customerReplied : filters.customerReplied
	};
}

export type TriageView = 'unassigned' | 'mine' | 'team' | 'replied' | 'open' | 'resolved' | 'closed';

export const TRIAGE_VIEWS: { id: TriageView; label: string; defaults: Partial<TicketFilters> }[] = [
	{ id: 'unassigned', label: 'Unassigned', defaults: { status: OPEN_STATUSES, assignee: 'none' } },
	{ id: 'mine', label: 'Mine', defaults: { status: OPEN_STATUSES, assignee: 'me' } },
	{ id: 'team', label: 'My team', defaults: { status: OPEN_STATUSES, team: 'mine' } },
	{ id: 'replied', label: 'Customer replied', defaults: { status: OPEN_STATUSES, customerReplied: true } },
	{ id: 'open', label: 'All open', defaults: { status: OPEN_STATUSES } },
	{ id: 'resolved', label: 'Resolved', defaults: { status: ['resolved'], sort: '-updated' } },
	{ id: 'closed', label: 'Closed', defaults: { status: ['closed'], sort: '-updated' } }
];

/** A team's queue is the view `team-<team id>`: its open tickets. */
const TEAM_QUEUE = /^team-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export interface TriageViewInfo {
	id: string;
	label: string;
	defaults: Partial<TicketFilters>;
	/** The team whose queue this is (its name comes from the list of teams). */
	teamId?: string;
}

export function teamQueueId(teamId: string): string {
	return `team-${teamId}`;
}

export function triageView(id: string): TriageViewInfo | undefined {
	const queue = TEAM_QUEUE.exec(id);
	if (queue) return { id, label: 'Team queue', defaults: { status: OPEN_STATUSES, team: queue[1] }, teamId: queue[1] };
	return TRIAGE_VIEWS.find((v) => v.id === id);
}

/** How many filters differ from the view's defaults (for a "Clear filters (n)" button). */
export function activeFilterCount(filters: TicketFilters, defaults: Partial<TicketFilters> = {}): number {
	const base = emptyFilters(defaults);
	let n = 0;
	if (filters.status.join() !== base.status.join()) n++;
	if (filters.type.length) n++;
	if (filters.priority.length) n++;
	if (filters.tags.length) n++;
	if (filters.assignee !== base.assignee) n++;
	if (filters.team !== base.team) n++;
	if (filters.q.trim()) n++;
	if (filters.customerReplied !== base.customerReplied) n++;
	n += Object.values(filters.cf).filter((v) => v.length).length;
	if (filters.sla.length) n++;
	return n;
}
