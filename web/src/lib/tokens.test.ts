import { describe, expect, it } from 'vitest';
import { customDateBounds, descendants, expiresAt, isExpired } from './tokens';

const now = new Date('2026-03-10T12:00:00Z');

describe('expiresAt', () => {
	it('counts days from now', () => {
		expect(expiresAt('30', '', now)).toBe('2026-04-09T12:00:00.000Z');
	});
	it('is null for never', () => {
		expect(expiresAt('never', '2026-05-01', now)).toBeNull();
	});
	it('ends a picked date at its last local second', () => {
		const end = new Date(expiresAt('custom', '2026-05-01', now) ?? '');
		expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours(), end.getMinutes()]).toEqual([2026, 4, 1, 23, 59]);
	});
	it('has nothing for a missing date', () => {
		expect(expiresAt('custom', '', now)).toBeUndefined();
	});
});

describe('customDateBounds', () => {
	it('offers tomorrow to a year ahead', () => {
		const { min, max } = customDateBounds(new Date(2026, 2, 10, 12));
		expect([min, max]).toEqual(['2026-03-11', '2027-03-10']);
	});
});

describe('isExpired', () => {
	it('tells past from future and never', () => {
		expect(isExpired('2026-03-10T11:59:59Z', now.getTime())).toBe(true);
		expect(isExpired('2026-03-10T12:00:01Z', now.getTime())).toBe(false);
		expect(isExpired(null, now.getTime())).toBe(false);
	});
});

describe('descendants', () => {
	it('follows every generation, and nothing else', () => {
		const tokens = [
			{ id: 'a', parent_id: null },
			{ id: 'b', parent_id: 'a' },
			{ id: 'c', parent_id: 'b' },
			{ id: 'd', parent_id: null },
			{ id: 'e', parent_id: 'd' }
		];
		expect([...descendants(tokens, 'a')].sort()).toEqual(['b', 'c']);
		expect(descendants(tokens, 'c').size).toBe(0);
	});
});
