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

/** A list answered on a later tick, like a real server, from `pages` keyed by cursor ('' for
 * the first page); it gives up after a while, so a list that never stops cannot keep the
 * test run busy. */
function serverList(pages: Record<string, PageResult<string>>) {
	const asked: (string | null)[] = [];
	const list = new CursorList<string, string>(
		(cursor) =>
			new Promise((resolve) =>
				setTimeout(() => {
					asked.push(cursor);
					resolve(asked.length > 20 ? problem('enough') : pages[cursor ?? '']);
				}, 0)
			)
	);
	return { list, asked };
}

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

	it('ends the list at a page that promises more but brings nothing, and says it is incomplete', async () => {
		const { list, asked } = serverList({ '': page(['created'], 'e1'), e1: page([], 'e1') });
		await list.loadAll('ticket 7');
		expect(asked).toEqual([null, 'e1']);
		expect(list.items).toEqual(['created']);
		expect(list.loading).toBe(false);
		expect(list.hasMore).toBe(false);
		expect(list.moreError).toBe('The list could not be read to the end.');
	});

	it('ends the list when a page points back to one already read, though every page has items', async () => {
		const { list, asked } = serverList({ '': page(['#1'], 'A'), A: page(['#2'], 'B'), B: page(['#3'], 'A') });
		await list.loadAll('open');
		expect(asked).toEqual([null, 'A', 'B']);
		expect(list.items).toEqual(['#1', '#2']);
		expect(list.hasMore).toBe(false);
		expect(list.moreError).toBe('The list could not be read to the end.');
		await list.loadMore();
		expect(asked).toHaveLength(3);
	});

	it('ends the list when "load more" brings a page that does not move it on, instead of asking again', async () => {
		const { list, asked } = serverList({ '': page(['#1'], 'A'), A: page(['#2'], 'B'), B: page(['#3'], 'A') });
		await list.load('open');
		await list.loadMore();
		expect(list.items).toEqual(['#1', '#2']);
		expect(list.hasMore).toBe(true);
		await list.loadMore();
		expect(asked).toEqual([null, 'A', 'B']);
		expect(list.items).toEqual(['#1', '#2']);
		expect(list.hasMore).toBe(false);
		expect(list.moreError).toBe('The list could not be read to the end.');
		await list.loadMore();
		expect(asked).toHaveLength(3);
	});

	it('ends the list when "load more" brings a page pointing to itself', async () => {
		const { list, asked } = serverList({ '': page(['#1'], 'A'), A: page(['#2'], 'A') });
		await list.load('open');
		await list.loadMore();
		expect(asked).toEqual([null, 'A']);
		expect(list.items).toEqual(['#1']);
		expect(list.hasMore).toBe(false);
		expect(list.moreError).toBe('The list could not be read to the end.');
	});

	it('stops following the pages when one fails, and keeps the ones it has', async () => {
		const { list, calls } = pendingList();
		const done = list.loadAll('ticket 7');
		calls[0].answer(page(['created'], 'e1'));
		await settle();
		calls[1].fail(new TypeError('Failed to fetch'));
		await done;
		expect(calls).toHaveLength(2);
		expect(list.items).toEqual(['created']);
		expect(list.moreError).toMatch(/Cannot reach the server/);
		expect(list.loadingMore).toBe(false);
	});

	it('does not load more for the old cursor while a quiet reload is on its way, so nothing is listed twice', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1', '#2'], 'c2'));
		await done;
		const reloaded = list.reload({ quiet: true });
		expect(list.refreshing).toBe(true);
		void list.loadMore();
		expect(calls).toHaveLength(2);
		// #1 was closed meanwhile, so the first page now ends one ticket later.
		calls[1].answer(page(['#2', '#3'], 'c3'));
		await reloaded;
		expect(list.refreshing).toBe(false);
		const more = list.loadMore();
		expect(calls[2]).toMatchObject({ query: 'open', cursor: 'c3' });
		calls[2].answer(page(['#4']));
		await more;
		expect(list.items).toEqual(['#2', '#3', '#4']);
	});

	it('does not stall a quiet reload of the whole list when "load more" is pressed meanwhile', async () => {
		const { list, calls } = pendingList();
		const done = list.load('ticket 7');
		calls[0].answer(page(['created'], 'e1'));
		await done;
		const all = list.loadAll('ticket 7', { quiet: true });
		void list.loadMore();
		expect(calls).toHaveLength(2);
		calls[1].answer(page(['created'], 'e1'));
		await settle();
		calls[2].answer(page(['assigned']));
		await all;
		expect(list.items).toEqual(['created', 'assigned']);
	});

	it('keeps the items on screen when a quiet reload fails, and says so', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1'], 'c1'));
		await done;
		const reloaded = list.reload({ quiet: true });
		calls[1].fail(new TypeError('Failed to fetch'));
		await reloaded;
		expect(list.items).toEqual(['#1']);
		expect(list.hasMore).toBe(true);
		expect(list.error).toBeNull();
		expect(list.refreshError).toMatch(/Cannot reach the server/);
		const again = list.reload({ quiet: true });
		calls[2].answer(page(['#1']));
		await again;
		expect(list.refreshError).toBeNull();
	});

	it('reloads quietly as many items as were shown, so the rows further down stay', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1', '#2'], 'c2'));
		await done;
		const more = list.loadMore();
		calls[1].answer(page(['#3', '#4'], 'c4'));
		await more;
		const reloaded = list.reload({ quiet: true });
		calls[2].answer(page(['#1', '#2'], 'c2'));
		await settle();
		expect(list.items).toEqual(['#1', '#2', '#3', '#4']);
		expect(calls[3]).toMatchObject({ query: 'open', cursor: 'c2' });
		calls[3].answer(page(['#3', '#5'], 'c5'));
		await reloaded;
		expect(list.items).toEqual(['#1', '#2', '#3', '#5']);
		expect(calls).toHaveLength(4);
		expect(list.hasMore).toBe(true);
	});

	it('reloads just the first page when it was not quiet', async () => {
		const { list, calls } = pendingList();
		const done = list.load('open');
		calls[0].answer(page(['#1'], 'c1'));
		await done;
		const more = list.loadMore();
		calls[1].answer(page(['#2'], 'c2'));
		await more;
		const reloaded = list.reload();
		expect(list.loading).toBe(true);
		calls[2].answer(page(['#1'], 'c1'));
		await reloaded;
		expect(list.items).toEqual(['#1']);
		expect(calls).toHaveLength(3);
	});

	it('forgets the list it showed when cleared, and drops answers still on their way', async () => {
		const { list, calls } = pendingList();
		const all = list.loadAll('ticket 7');
		list.clear();
		expect(list.items).toEqual([]);
		calls[0].answer(page(['ticket 7 created']));
		await all;
		expect(list.items).toEqual([]);
		expect(list.hasMore).toBe(false);
	});
});
