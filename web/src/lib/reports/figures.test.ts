import { describe, expect, it } from 'vitest';
import { chartOf, hours, lastDays, percent } from './figures';

const series = (name: string, created: number[]) => ({
	name,
	points: created.map((c, i) => ({ period: `2026-11-1${i}`, values: { created: c, resolved: c - 1 } }))
});
type V = { created: number; resolved: number };
const figures = [
	{ label: 'Created', read: (v: V) => v.created },
	{ label: 'Resolved', read: (v: V) => v.resolved }
];

describe('chartOf', () => {
	it('draws each figure of the one series when not split', () => {
		expect(chartOf([series('All tickets', [3, 4])], figures, false)).toEqual({
			periods: ['2026-11-10', '2026-11-11'],
			datasets: [
				{ label: 'Created', data: [3, 4] },
				{ label: 'Resolved', data: [2, 3] }
			]
		});
	});
	it('draws the first figure of each value when split', () => {
		expect(chartOf([series('bug', [1, 2]), series('feature', [5, 6])], figures, true).datasets).toEqual([
			{ label: 'bug', data: [1, 2] },
			{ label: 'feature', data: [5, 6] }
		]);
	});
	it('has nothing to draw without series', () => {
		expect(chartOf([], figures, false)).toEqual({ periods: [], datasets: [] });
	});
});

describe('units', () => {
	it('reads seconds as hours and shares as percentages', () => {
		expect(hours(5400)).toBe(1.5);
		expect(hours(null)).toBeNull();
		expect(percent(0.3333)).toBe(33.3);
	});
	it('counts the last days back from today, today included', () => {
		expect(lastDays(new Date('2026-11-17T12:00:00Z'), 7)).toEqual({ from: '2026-11-11', to: '2026-11-17' });
	});
});
