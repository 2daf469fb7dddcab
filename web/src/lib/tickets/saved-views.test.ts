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

	it('keep team, SLA state and custom fields, and give them back to the list', () => {
		const team = '0190a3c2-5b7e-7c2d-8f00-1234567890ab';
		const listed = emptyFilters({ status: ['open'], team, sla: ['at_risk', 'breached'], cf: { severity: ['major', 'critical'], 'due.from': ['2026-01-01'] } });
		const saved = filtersToView(listed);
		expect(saved).toEqual({
			filters: { status: ['open'], team, sla: ['at_risk', 'breached'], custom_fields: { severity: ['major', 'critical'], 'due.from': ['2026-01-01'] } },
			sort: '-created'
		});
		expect(viewToFilters(saved)).toEqual(listed);
		expect(showsView(listed, saved)).toBe(true);
		expect(showsView(emptyFilters({ status: ['open'], team, sla: ['at_risk', 'breached'] }), saved)).toBe(false);
		expect(viewHref(saved)).toBe(`/triage/open?status=open&team=${team}&cf.severity=major&cf.severity=critical&cf.due.from=2026-01-01&sla=at_risk&sla=breached`);
		expect(viewToFilters({ filters: { team: 'mine' } as ViewFilters, sort: '-created' }).team).toBe('mine');
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
