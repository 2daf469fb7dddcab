/** Ticket list filters ⇄ the page's query string ⇄ the API's query parameters. */
import type { TicketListQuery, TicketPriority, TicketSort, TicketStatus, TicketType } from '$lib/api/types';
import { OPEN_STATUSES, PRIORITIES, STATUSES, TYPES } from './meta';

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
const SORT_VALUES = new Set<string>([...SORTS, RELEVANCE].map((s) => s.value));
export const DEFAULT_SORT: TicketSort = '-created';

/** The sorts to offer: "Relevance" only while there is a search. */
export function sortsFor(filters: TicketFilters): { value: TicketSort; label: string }[] {
	return filters.q.trim() ? [RELEVANCE, ...SORTS] : SORTS;
}

export function emptyFilters(overrides: Partial<TicketFilters> = {}): TicketFilters {
	return { status: [], type: [], priority: [], tags: [], assignee: '', team: '', q: '', customerReplied: false, sort: DEFAULT_SORT, ...overrides };
}

function pick<T extends string>(values: string[], allowed: readonly T[]): T[] {
	const set = new Set<string>(allowed);
	return [...new Set(values.filter((v) => set.has(v)))] as T[];
}

/** Read filters from a URL's search params, ignoring unknown values (hand-edited URLs stay harmless). */
export function filtersFromSearchParams(params: URLSearchParams, defaults: Partial<TicketFilters> = {}): TicketFilters {
	const base = emptyFilters(defaults);
	const sort = params.get('sort');
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
		sort: sort && SORT_VALUES.has(sort) ? (sort as TicketSort) : base.sort
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
	return n;
}
