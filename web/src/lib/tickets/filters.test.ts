import { describe, expect, it } from 'vitest';
import { activeFilterCount, emptyFilters, filtersFromSearchParams, filtersToApiQuery, filtersToSearchParams, searchEverywhere, sortsFor, triageView } from './filters';

describe('filters ⇄ query string', () => {
	it('round-trips every filter', () => {
		const f = emptyFilters({ status: ['open', 'waiting'], type: ['bug'], priority: ['high', 'critical'], tags: ['billing'], assignee: 'me', q: 'export csv', sort: 'priority' });
		const qs = filtersToSearchParams(f).toString();
		expect(qs).toBe('status=open&status=waiting&type=bug&priority=high&priority=critical&tags=billing&assignee=me&q=export+csv&sort=priority');
		expect(filtersFromSearchParams(new URLSearchParams(qs))).toEqual(f);
	});

	it('round-trips custom field filters and sorts', () => {
		const f = emptyFilters({ cf: { severity: ['major', 'critical'] }, sort: '-cf.severity' });
		const qs = filtersToSearchParams(f).toString();
		expect(qs).toBe('cf.severity=major&cf.severity=critical&sort=-cf.severity');
		expect(filtersFromSearchParams(new URLSearchParams(qs))).toEqual(f);
		expect(filtersToApiQuery(f)).toEqual({ sort: '-cf.severity', 'cf.severity': ['major', 'critical'] });
		expect(activeFilterCount(f)).toBe(1);
	});

	it('leaves defaults out of the URL', () => {
		const view = triageView('unassigned')!;
		const f = filtersFromSearchParams(new URLSearchParams(''), view.defaults);
		expect(f.status).toEqual(['open', 'in_progress', 'waiting']);
		expect(f.assignee).toBe('none');
		expect(filtersToSearchParams(f, view.defaults).toString()).toBe('');
		expect(activeFilterCount(f, view.defaults)).toBe(0);
	});

	it('keeps an explicit "any status" distinct from the view default', () => {
		const view = triageView('open')!;
		const qs = filtersToSearchParams(emptyFilters({ status: [] }), view.defaults);
		expect(qs.getAll('status')).toEqual(['']);
		expect(filtersFromSearchParams(qs, view.defaults).status).toEqual([]);
	});

	it('ignores unknown and duplicate values from hand-edited URLs', () => {
		const f = filtersFromSearchParams(new URLSearchParams('status=open&status=bogus&status=open&type=nope&sort=drop-table'));
		expect(f.status).toEqual(['open']);
		expect(f.type).toEqual([]);
		expect(f.sort).toBe('-created');
	});

	it('builds the API query without empty values', () => {
		expect(filtersToApiQuery(emptyFilters())).toEqual({ sort: '-created' });
		expect(filtersToApiQuery(emptyFilters({ status: ['resolved'], q: '  x ', assignee: 'none' }), { limit: 50, cursor: 'c1' })).toEqual({
			sort: '-created',
			status: ['resolved'],
			q: 'x',
			assignee: 'none',
			limit: 50,
			cursor: 'c1'
		});
	});

	it('asks for tickets awaiting an answer only when set', () => {
		const view = triageView('replied')!;
		const f = filtersFromSearchParams(new URLSearchParams(''), view.defaults);
		expect(f.customerReplied).toBe(true);
		expect(filtersToApiQuery(f)).toEqual({ sort: '-created', status: ['open', 'in_progress', 'waiting'], customer_replied: true });
		expect(filtersToSearchParams(f, view.defaults).toString()).toBe('');
		expect(filtersFromSearchParams(new URLSearchParams('customer_replied=true')).customerReplied).toBe(true);
		expect(filtersToApiQuery(emptyFilters())).not.toHaveProperty('customer_replied');
		const all = emptyFilters({ ...view.defaults, customerReplied: false });
		expect(filtersToSearchParams(all, view.defaults).toString()).toBe('customer_replied=false');
		expect(activeFilterCount(all, view.defaults)).toBe(1);
	});

	it('counts active filters', () => {
		expect(activeFilterCount(emptyFilters({ q: 'x', type: ['bug'] }))).toBe(2);
	});

	it('searches every status from a triage view, keeping filters picked by hand', () => {
		const view = triageView('unassigned')!;
		const typed = filtersFromSearchParams(new URLSearchParams('q=zebracorn&type=bug'), view.defaults);
		expect(filtersToApiQuery(searchEverywhere(typed, view.defaults))).toEqual({ sort: '-created', q: 'zebracorn', type: ['bug'] });
		const picked = filtersFromSearchParams(new URLSearchParams('q=zebracorn&status=resolved'), view.defaults);
		expect(searchEverywhere(picked, view.defaults).status).toEqual(['resolved']);
		const browsing = filtersFromSearchParams(new URLSearchParams(''), view.defaults);
		expect(searchEverywhere(browsing, view.defaults)).toEqual(browsing);
	});

	it("has a queue of the caller's teams and one for each team", () => {
		const mine = triageView('team')!;
		expect(filtersToApiQuery(emptyFilters(mine.defaults))).toEqual({ sort: '-created', status: ['open', 'in_progress', 'waiting'], team: 'mine' });
		const id = '0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b';
		const queue = triageView(`team-${id}`)!;
		expect(queue.teamId).toBe(id);
		expect(filtersToApiQuery(emptyFilters(queue.defaults)).team).toBe(id);
		expect(triageView('team-sales')).toBeUndefined();
		const typed = filtersFromSearchParams(new URLSearchParams('q=zebracorn'), queue.defaults);
		expect(filtersToApiQuery(searchEverywhere(typed, queue.defaults))).not.toHaveProperty('team');
	});

	it('offers relevance only with a search, and never asks for it without one', () => {
		expect(sortsFor(emptyFilters()).map((s) => s.value)).not.toContain('relevance');
		expect(sortsFor(emptyFilters({ q: 'x' }))[0].value).toBe('relevance');
		expect(filtersFromSearchParams(new URLSearchParams('q=x&sort=relevance')).sort).toBe('relevance');
		expect(filtersToApiQuery(emptyFilters({ sort: 'relevance' })).sort).toBe('-created');
		expect(filtersToApiQuery(emptyFilters({ sort: 'relevance', q: 'x' })).sort).toBe('relevance');
	});
});
