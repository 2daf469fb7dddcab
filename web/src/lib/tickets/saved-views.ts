/** Saved triage views ⇄ the triage list's filters and its address. */
import type { SavedView, ViewFilters } from '$lib/api/types';
import { emptyFilters, filtersToApiQuery, filtersToSearchParams, triageView, type TicketFilters } from './filters';

/** The list's filters as a view stores them: the API's query parameters, without paging;
 * the custom field filters (`cf.<key>`) as `custom_fields`, keyed by what follows `cf.`. */
export function filtersToView(f: TicketFilters): { filters: ViewFilters; sort: SavedView['sort'] } {
	const { sort, limit: _limit, cursor: _cursor, ...rest } = filtersToApiQuery(f);
	const filters: Record<string, unknown> = {};
	const customFields: Record<string, string[]> = {};
	for (const [name, value] of Object.entries(rest)) {
		if (name.startsWith('cf.')) customFields[name.slice(3)] = value as string[];
		else filters[name] = value;
	}
	if (Object.keys(customFields).length) filters.custom_fields = customFields;
	return { filters: filters as ViewFilters, sort: sort ?? '-created' };
}

/** The filters of the triage list a view shows (those the list can show). */
export function viewToFilters(view: Pick<SavedView, 'filters' | 'sort'>): TicketFilters {
	const f = view.filters;
	return emptyFilters({
		status: f.status ?? [],
		type: f.type ?? [],
		priority: f.priority ?? [],
		tags: f.tags ?? [],
		assignee: f.assignee ?? '',
		q: f.q ?? '',
		customerReplied: f.customer_replied === true,
		team: f.team ?? '',
		cf: Object.fromEntries(Object.entries(f.custom_fields ?? {}).filter(([, values]) => values.length)),
		sla: f.sla ?? [],
		sort: view.sort
	});
}

/** Where a view opens: All open, with the view's filters in the address. */
export function viewHref(view: Pick<SavedView, 'filters' | 'sort'>): string {
	const qs = filtersToSearchParams(viewToFilters(view), triageView('open')?.defaults).toString();
	return `/triage/open${qs ? `?${qs}` : ''}`;
}

/** Whether the list shows exactly what ``view`` shows. */
export function showsView(listed: TicketFilters, view: Pick<SavedView, 'filters' | 'sort'>): boolean {
	return JSON.stringify(filtersToView(listed)) === JSON.stringify(filtersToView(viewToFilters(view)));
}

/** A view's open count as the sidebar shows it. */
export function openCount(view: Pick<SavedView, 'open_count' | 'open_count_capped'>): string {
	return view.open_count_capped ? '1,000+' : view.open_count.toLocaleString('en');
}
