import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearDraft, createDraftSaver, draftKey, isDraftEmpty, loadDraft, newIdempotencyKey, saveDraft, type DraftStorage } from './draft';

function memoryStorage(): DraftStorage & { data: Map<string, string> } {
	const data = new Map<string, string>();
	return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

afterEach(() => vi.useRealTimers());

describe('drafts', () => {
	it('keys drafts per form and per user', () => {
		expect(draftKey('new-ticket', 'u1')).toBe('ticketdesk:draft:new-ticket:u1');
		expect(draftKey('new-ticket')).toBe('ticketdesk:draft:new-ticket');
	});

	it('saves, loads and clears', () => {
		const storage = memoryStorage();
		const now = new Date('2026-01-02T03:04:05Z');
		expect(saveDraft('k', { title: 'Hello' }, storage, now)).toBe(true);
		const loaded = loadDraft<{ title: string }>('k', storage);
		expect(loaded?.data.title).toBe('Hello');
		expect(loaded?.savedAt.toISOString()).toBe(now.toISOString());
		clearDraft('k', storage);
		expect(loadDraft('k', storage)).toBeNull();
	});

	it('drops corrupt or foreign values instead of crashing', () => {
		const storage = memoryStorage();
		storage.setItem('k', '{not json');
		expect(loadDraft('k', storage)).toBeNull();
		expect(storage.data.has('k')).toBe(false);
		storage.setItem('k', JSON.stringify({ v: 99, data: {} }));
		expect(loadDraft('k', storage)).toBeNull();
	});

	it('reports a full or missing storage', () => {
		const full: DraftStorage = { getItem: () => null, setItem: () => { throw new Error('QuotaExceeded'); }, removeItem: () => {} };
		expect(saveDraft('k', { a: 1 }, full)).toBe(false);
		expect(saveDraft('k', { a: 1 }, null)).toBe(false);
		expect(loadDraft('k', null)).toBeNull();
	});

	it('knows an empty draft', () => {
		expect(isDraftEmpty({ title: ' ', description: '' })).toBe(true);
		expect(isDraftEmpty({ title: 'x' })).toBe(false);
	});

	it('debounces saves', () => {
		vi.useFakeTimers();
		const storage = memoryStorage();
		const saver = createDraftSaver<{ t: string }>('k', 400, storage);
		const onSaved = vi.fn();
		saver.schedule({ t: 'a' }, onSaved);
		saver.schedule({ t: 'ab' }, onSaved);
		vi.advanceTimersByTime(399);
		expect(storage.data.has('k')).toBe(false);
		vi.advanceTimersByTime(1);
		expect(onSaved).toHaveBeenCalledTimes(1);
		expect(loadDraft<{ t: string }>('k', storage)?.data.t).toBe('ab');
		saver.clear();
		expect(storage.data.has('k')).toBe(false);
	});

	it('saves at once what waits to be saved when the form goes away, and only that', () => {
		vi.useFakeTimers();
		const storage = memoryStorage();
		const saver = createDraftSaver<{ t: string }>('k', 400, storage);
		saver.flush();
		expect(storage.data.has('k')).toBe(false);
		saver.schedule({ t: 'half a sent' });
		saver.flush();
		expect(loadDraft<{ t: string }>('k', storage)?.data.t).toBe('half a sent');
		storage.removeItem('k');
		vi.advanceTimersByTime(1_000);
		saver.flush();
		expect(storage.data.has('k')).toBe(false);
	});

	it('makes distinct idempotency keys', () => {
		const a = newIdempotencyKey();
		expect(a).toMatch(/^[0-9a-f-]{32,36}$/);
		expect(newIdempotencyKey()).not.toBe(a);
	});
});
