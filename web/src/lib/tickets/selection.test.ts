import { describe, expect, it } from 'vitest';
import { bulkStatusChoices, keepListed } from './selection';

describe('keepListed', () => {
	it('keeps the tickets still in the list and drops the ones that left it', () => {
		const selected = new Set(['a', 'b', 'c']);
		expect(keepListed(selected, [{ id: 'a' }, { id: 'c' }, { id: 'd' }])).toEqual(new Set(['a', 'c']));
	});

	it('selects nothing new', () => {
		expect(keepListed(new Set(), [{ id: 'a' }])).toEqual(new Set());
	});
});

describe('bulkStatusChoices', () => {
	const statuses = ['open', 'in_progress', 'waiting', 'resolved'] as const;
	type S = (typeof statuses)[number];
	const open = { status: 'open' as S, transitions: ['in_progress', 'resolved'] as S[] };
	const working = { status: 'in_progress' as S, transitions: ['waiting', 'resolved'] as S[] };

	it('offers a status every selected ticket may move to, or already has', () => {
		const choices = bulkStatusChoices(statuses, [open, open, working]);
		expect(choices.find((c) => c.status === 'resolved')?.refused).toEqual([]);
		expect(choices.find((c) => c.status === 'in_progress')?.refused).toEqual([]);
	});

	it('counts the tickets that may not move, by the status they are in', () => {
		const choices = bulkStatusChoices(statuses, [open, open, working]);
		expect(choices.find((c) => c.status === 'waiting')?.refused).toEqual([{ from: 'open', count: 2 }]);
		expect(choices.find((c) => c.status === 'open')?.refused).toEqual([{ from: 'in_progress', count: 1 }]);
	});
});
