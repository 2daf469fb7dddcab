import { describe, expect, it } from 'vitest';
import type { ViewFilters } from '$lib/api/types';
import { emptyFilters } from './filters';
import { filtersToView, openCount, showsView, viewHref, viewToFilters } from './saved-views';

describe('saved views', () => {
	it('store the list API query parameters of what the list shows', () => {
		const listed = emptyFilters({ status: ['open', 'waiting'], priority: ['high'], tags: ['billing'], assignee: 'me', customerReplied: true, sort: '-updated' });
		expect(filtersToView(listed)).toEqual({
			filters: { status: ['open', 'waiting'], priority: ['high'], tags: ['billing'], assignee: 'me', customer_replied: true },
			sort: '-updated'
		});
	});

	it('open as All open with their filters in the address', () => {
		const view = { filters: { status: ['open', 'in_progress', 'waiting'], priority: ['critical'] } as ViewFilters, sort: '-created' as const };
		expect(viewHref(view)).toBe('/triage/open?priority=critical');
		expect(viewHref({ filters: { status: [] } as unknown as ViewFilters, sort: 'priority' })).toBe('/triage/open?status=&sort=priority');
	});

	it('know the list that shows them', () => {
		const view = { filters: { priority: ['high'] } as ViewFilters, sort: '-created' as const };
		expect(showsView(viewToFilters(view), view)).toBe(true);
		expect(showsView(emptyFilters({ priority: ['high'], sort: 'created' }), view)).toBe(false);
	});

	it('show a capped count as 1,000+', () => {
		expect(openCount({ open_count: 1000, open_count_capped: true })).toBe('1,000+');
		expect(openCount({ open_count: 999, open_count_capped: false })).toBe('999');
	});
});
