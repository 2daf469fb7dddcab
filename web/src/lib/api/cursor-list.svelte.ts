/**
 * A keyset-paged list from the API (`{ items, next_cursor }`): the first page, "load more",
 * loading and error state, and a guard so that an answer to an older request never
 * overwrites the answer to a newer one (filters changed while a page was on its way).
 * Following pages stops at the first failure (where "load more" can try again), and at a page
 * that does not move the list on (the list then ends there: asking again would not help).
 */
import { toFormProblem } from './problem';

export interface CursorPage<T> {
	items: T[];
	next_cursor: string | null;
}

/** What an openapi-fetch call resolves to, as far as a list cares. */
export interface PageResult<T> {
	data?: CursorPage<T>;
	error?: unknown;
}

/** Fetch one page of the list for `query`, starting after `cursor` (null: the first page). */
export type PageFetcher<T, Q> = (cursor: string | null, query: Q) => Promise<PageResult<T>>;

type Fetched<T> = { ok: true; page: CursorPage<T> } | { ok: false; message: string };

// A page that promises more without bringing anything, or points back to a page already
// read, would have a "load every page" follow the server forever.
const NO_PROGRESS = 'The list could not be read to the end.';

function advances<T>(page: CursorPage<T>, followed: ReadonlySet<string>): boolean {
	return page.next_cursor === null || (page.items.length > 0 && !followed.has(page.next_cursor));
}

export class CursorList<T, Q = void> {
	items = $state<T[]>([]);
	nextCursor = $state<string | null>(null);
	/** The first page is on its way (a quiet reload keeps showing the items instead); a list
	 * starts out loading, as every screen loads its lists as soon as it shows. */
	loading = $state(true);
	/** A quiet reload is on its way: the items stay shown, and "load more" waits for it. */
	refreshing = $state(false);
	loadingMore = $state(false);
	/** Why the latest first page could not be loaded. */
	error = $state<string | null>(null);
	/** Why the latest quiet reload failed; the items shown are the ones from before it. */
	refreshError = $state<string | null>(null);
	/** Why the latest "load more" failed, or why the list ended early (then there is no more
	 * to load); the items loaded before it stay. */
	moreError = $state<string | null>(null);

	readonly #fetch: PageFetcher<T, Q>;
	#query: Q | undefined;
	// Every load starts a new generation; answers that arrive for an older one are dropped.
	#generation = 0;
	// The cursors followed to read the items shown: a page pointing back to one goes in circles.
	#followed = new Set<string>();

	constructor(fetch: PageFetcher<T, Q>) {
		this.#fetch = fetch;
	}

	get hasMore(): boolean {
		return this.nextCursor !== null;
	}

	/** Load the first page for `query`, replacing the items; `quiet` keeps the old ones shown meanwhile. */
	load(query: Q, { quiet = false }: { quiet?: boolean } = {}): Promise<void> {
		return this.#replace(query, quiet, 1);
	}

	/** Load the list again for the last query; a quiet reload brings back as many items as
	 * are shown, so the rows further down (and a selection among them) stay. */
	reload({ quiet = false }: { quiet?: boolean } = {}): Promise<void> {
		return this.#replace(this.#query as Q, quiet, quiet ? Math.max(1, this.items.length) : 1);
	}

	/** Load every page for `query`, for lists shown whole (a timeline merged with comments). */
	loadAll(query: Q, { quiet = false }: { quiet?: boolean } = {}): Promise<void> {
		return this.#replace(query, quiet, Infinity);
	}

	/** Show nothing, and drop the answers still on their way (the list now belongs to something else). */
	clear(): void {
		++this.#generation;
		this.items = [];
		this.nextCursor = null;
		this.loading = true;
		this.refreshing = false;
		this.loadingMore = false;
		this.error = null;
		this.refreshError = null;
		this.moreError = null;
		this.#followed = new Set();
	}

	/** Append the next page; does nothing while a page is on its way or when there is none. */
	async loadMore(): Promise<void> {
		const cursor = this.nextCursor;
		// During a reload the cursor shown belongs to the old list: pages read after it
		// would repeat or skip items of the new one.
		if (cursor === null || this.loading || this.refreshing || this.loadingMore) return;
		const generation = this.#generation;
		this.loadingMore = true;
		this.moreError = null;
		const result = await this.#fetchPage(this.#query as Q, cursor);
		if (generation !== this.#generation) return;
		const followed = new Set(this.#followed).add(cursor);
		if (!result.ok) {
			this.moreError = result.message;
		} else if (!advances(result.page, followed)) {
			this.nextCursor = null;
			this.moreError = NO_PROGRESS;
		} else {
			this.items = [...this.items, ...result.page.items];
			this.nextCursor = result.page.next_cursor;
			this.#followed = followed;
		}
		this.loadingMore = false;
	}

	/** Read pages from the first until `want` items are in or the list ends, then show them at once. */
	async #replace(query: Q, quiet: boolean, want: number): Promise<void> {
		const generation = ++this.#generation;
		this.#query = query;
		if (quiet) {
			this.refreshing = true;
		} else {
			this.loading = true;
			this.refreshError = null;
		}
		this.loadingMore = false;
		this.moreError = null;
		const items: T[] = [];
		const followed = new Set<string>();
		let pages = 0;
		let cursor: string | null = null;
		let stopped: { message: string; failed: boolean } | null = null;
		for (;;) {
			const result = await this.#fetchPage(query, cursor);
			if (generation !== this.#generation) return;
			if (!result.ok) {
				stopped = { message: result.message, failed: true };
				break;
			}
			if (!advances(result.page, followed)) {
				stopped = { message: NO_PROGRESS, failed: false };
				break;
			}
			pages += 1;
			items.push(...result.page.items);
			cursor = result.page.next_cursor;
			if (cursor === null || items.length >= want) break;
			followed.add(cursor);
		}
		const keepShown = quiet && !this.loading && this.error === null;
		this.loading = false;
		this.refreshing = false;
		if (stopped?.failed && keepShown) {
			// The items shown are whole, if not fresh; better than a list cut short or none.
			this.refreshError = stopped.message;
		} else if (stopped?.failed && pages === 0) {
			this.error = stopped.message;
			this.refreshError = null;
		} else {
			this.items = items;
			this.#followed = followed;
			// Where a page failed, "load more" can try again; a list going in circles ends.
			this.nextCursor = stopped && !stopped.failed ? null : cursor;
			this.error = null;
			this.refreshError = null;
			this.moreError = stopped?.message ?? null;
		}
	}

	async #fetchPage(query: Q, cursor: string | null): Promise<Fetched<T>> {
		try {
			const { data, error } = await this.#fetch(cursor, query);
			return data ? { ok: true, page: data } : { ok: false, message: toFormProblem(error).message };
		} catch (e) {
			return { ok: false, message: toFormProblem(e).message };
		}
	}
}
