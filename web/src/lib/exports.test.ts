import { describe, expect, it } from 'vitest';
import { exportFilters, formatBytes, inProgress, percentDone, type ExportForm } from './exports';

const empty: ExportForm = { status: [], type: [], priority: [], label: '', team: '', createdFrom: '', createdTo: '' };

describe('exportFilters', () => {
	it('leaves out what was not chosen', () => {
		expect(exportFilters(empty)).toEqual({});
	});
	it('names each chosen filter as the list does', () => {
		expect(exportFilters({ ...empty, status: ['open', 'waiting'], type: ['bug'], priority: ['high'], label: 'Billing', team: 'none' })).toEqual({
			status: ['open', 'waiting'],
			type: ['bug'],
			priority: ['high'],
			tags: ['Billing'],
			team: 'none'
		});
	});
	it('takes the created range from the first day to the end of the last', () => {
		expect(exportFilters({ ...empty, createdFrom: '2026-02-01', createdTo: '2026-02-28' })).toEqual({
			created_after: '2026-02-01T00:00:00Z',
			created_before: '2026-03-01T00:00:00Z'
		});
	});
});

describe('percentDone', () => {
	it('is unknown while queued', () => {
		expect(percentDone({ status: 'queued', rows_done: 0, rows_total: null })).toBeNull();
	});
	it('counts rows written of the total', () => {
		expect(percentDone({ status: 'running', rows_done: 250, rows_total: 1000 })).toBe(25);
	});
	it('is full once done, even with nothing to write', () => {
		expect(percentDone({ status: 'done', rows_done: 0, rows_total: 0 })).toBe(100);
	});
});

describe('inProgress', () => {
	it('is true until the job ends', () => {
		expect(['queued', 'running', 'done', 'failed'].map((status) => inProgress({ status: status as 'queued' }))).toEqual([true, true, false, false]);
	});
});

describe('formatBytes', () => {
	it('reads as people read sizes', () => {
		expect([formatBytes(512), formatBytes(2048), formatBytes(110 * 1024 * 1024)]).toEqual(['512 B', '2.0 KB', '110 MB']);
	});
});
