import { describe, expect, it } from 'vitest';
import { CursorList, type PageResult } from './cursor-list.svelte';

interface Call {
	query: string;
	cursor: string | null;
	answer: (result: PageResult<string>) => void;
	fail: (error: unknown) => void;
}

/** A list whose requests wait until the test answers them, in whatever order it likes. */
function pendingList() {
	const calls: Call[] = [];
	const list = new CursorList<string, string>(
		(cursor, query) =>
			new Promise((resolve, reject) => {
				calls.push({ query, cursor, answer: resolve, fail: reject });
			})
	);
	return { list, calls };
}

const page = (items: string[], next: string | null = null): PageResult<string> => ({ data: { items, next_cursor: next } });
const problem = (detail: string): PageResult<string> => ({ error: { status: 400, title: 'Bad Request', detail, code: 'invalid' } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CursorList', () => {
	it('shows loading until the first page arrives, then its items and whether there is more', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		expect(list.loading).toBe(true);
		expect(calls).toMatchObject([{ query: 'open', cursor: null }]);
		calls[0].answer(page(['#1', '#2'], 'c2'));
		await done;
		expect(list.loading).toBe(false);
		expect(list.items).toEqual(['#1', '#2']);
		expect(list.hasMore).toBe(true);
		expect(list.error).toBeNull();
	});

	it("shows the server's message when the first page is refused", async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(problem('The cursor is not valid for this sort.'));
		await done;
		expect(list.error).toBe('The cursor is not valid for this sort.');
		expect(list.loading).toBe(false);
	});

	it('says the server cannot be reached when the request itself fails', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].fail(new TypeError('Failed to fetch'));
		await done;
		expect(list.error).toMatch(/Cannot reach the server/);
	});

	it('never lets an older answer overwrite a newer one', async () => {
		const { list, calls } = pendingList();
		const first = list.load('open');
		const second = list.load('closed');
		calls[1].answer(page(['closed #9']));
		await second;
		expect(list.items).toEqual(['closed #9']);
		calls[0].answer(page(['open #1', 'open #2'], 'c2'));
		await first;
		expect(list.items).toEqual(['closed #9']);
		expect(list.hasMore).toBe(false);
		expect(list.loading).toBe(false);
	});

	it('keeps loading until the newest request answers, and ignores an older failure', async () => {
		const { list, calls } = pendingList();
		const first = list.load('open');
		const second = list.load('closed');
		calls[0].answer(problem('old query failed'));
		await first;
		expect(list.loading).toBe(true);
		expect(list.error).toBeNull();
		calls[1].answer(page(['closed #9']));
		await second;
		expect(list.loading).toBe(false);
		expect(list.items).toEqual(['closed #9']);
	});

	it('loads more for the same query, after the last cursor, and appends', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1'], 'c1'));
		await done;
		const more = list.loadMore();
		expect(list.loadingMore).toBe(true);
		expect(calls[1]).toMatchObject({ query: 'open', cursor: 'c1' });
		calls[1].answer(page(['#2'], null));
		await more;
		expect(list.items).toEqual(['#1', '#2']);
		expect(list.hasMore).toBe(false);
		expect(list.loadingMore).toBe(false);
		await list.loadMore();
		expect(calls).toHaveLength(2);
	});

	it('asks for the next page once however often "load more" is pressed', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1'], 'c1'));
		await done;
		void list.loadMore();
		void list.loadMore();
		expect(calls).toHaveLength(2);
	});

	it('drops a page of "load more" that belongs to a list replaced meanwhile', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['open #1'], 'c1'));
		await done;
		const more = list.loadMore();
		const reloaded = list.load('closed');
		calls[2].answer(page(['closed #9']));
		await reloaded;
		calls[1].answer(page(['open #2']));
		await more;
		expect(list.items).toEqual(['closed #9']);
		expect(list.loadingMore).toBe(false);
	});

	it('keeps what it has when "load more" fails, and says why', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1'], 'c1'));
		await done;
		const more = list.loadMore();
		calls[1].answer(problem('Too many requests, slow down.'));
		await more;
		expect(list.items).toEqual(['#1']);
		expect(list.moreError).toBe('Too many requests, slow down.');
		expect(list.error).toBeNull();
		expect(list.hasMore).toBe(true);
	});

	it('reloads quietly: the items stay on screen until the new page replaces them', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1']));
		await done;
		const reloaded = list.reload({ quiet: true });
		expect(list.loading).toBe(false);
		expect(list.items).toEqual(['#1']);
		expect(calls[1]).toMatchObject({ query: 'open', cursor: null });
		calls[1].answer(page(['#1', '#2']));
		await reloaded;
		expect(list.items).toEqual(['#1', '#2']);
	});

	it('loads every page when asked for the whole list', async () => {
		const { list, calls } = pendingList();
		const done = list.loadAll('ticket 7');
		calls[0].answer(page(['created'], 'e1'));
		await settle();
		expect(calls[1]).toMatchObject({ query: 'ticket 7', cursor: 'e1' });
		calls[1].answer(page(['assigned'], 'e2'));
		await settle();
		calls[2].answer(page(['closed']));
		await done;
		expect(list.items).toEqual(['created', 'assigned', 'closed']);
		expect(calls).toHaveLength(3);
	});

	it('stops following the pages of a list that a newer load replaced', async () => {
		const { list, calls } = pendingList();
		const all = list.loadAll('ticket 7');
		calls[0].answer(page(['created'], 'e1'));
		await settle();
		const newer = list.load('ticket 8');
		calls[1].answer(page(['assigned'], 'e2'));
		calls[2].answer(page(['ticket 8 created']));
		await Promise.all([all, newer]);
		expect(list.items).toEqual(['ticket 8 created']);
		expect(calls).toHaveLength(3);
	});
});
