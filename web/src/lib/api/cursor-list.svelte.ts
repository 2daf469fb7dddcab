/**
 * A keyset-paged list from the API (`{ items, next_cursor }`): the first page, "load more",
 * loading and error state, and a guard so that an answer to an older request never
 * overwrites the answer to a newer one (filters changed while a page was on its way).
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

export class CursorList<T, Q = void> {
	items = $state<T[]>([]);
	nextCursor = $state<string | null>(null);
	/** The first page is on its way (a quiet reload keeps showing the items instead); a list
	 * starts out loading, as every screen loads its lists as soon as it shows. */
	loading = $state(true);
	loadingMore = $state(false);
	/** Why the latest first page could not be loaded. */
	error = $state<string | null>(null);
	/** Why the latest "load more" failed; the items loaded before it stay. */
	moreError = $state<string | null>(null);

	readonly #fetch: PageFetcher<T, Q>;
	#query: Q | undefined;
	// Every load starts a new generation; answers that arrive for an older one are dropped.
	#generation = 0;

	constructor(fetch: PageFetcher<T, Q>) {
		this.#fetch = fetch;
	}

	get hasMore(): boolean {
		return this.nextCursor !== null;
	}

	/** Load the first page for `query`, replacing the items; `quiet` keeps the old ones shown meanwhile. */
	async load(query: Q, { quiet = false }: { quiet?: boolean } = {}): Promise<void> {
		const generation = ++this.#generation;
		this.#query = query;
		if (!quiet) this.loading = true;
		this.loadingMore = false;
		this.moreError = null;
		const result = await this.#fetchPage(query, null);
		if (generation !== this.#generation) return;
		if (result.ok) {
			this.items = result.page.items;
			this.nextCursor = result.page.next_cursor;
			this.error = null;
		} else {
			this.error = result.message;
		}
		this.loading = false;
	}

	/** Load the first page again for the last query. */
	reload(options: { quiet?: boolean } = {}): Promise<void> {
		return this.load(this.#query as Q, options);
	}

	/** Append the next page; does nothing while a page is on its way or when there is none. */
	async loadMore(): Promise<void> {
		const cursor = this.nextCursor;
		if (cursor === null || this.loading || this.loadingMore) return;
		const generation = this.#generation;
		this.loadingMore = true;
		this.moreError = null;
		const result = await this.#fetchPage(this.#query as Q, cursor);
		if (generation !== this.#generation) return;
		if (result.ok) {
			this.items = [...this.items, ...result.page.items];
			this.nextCursor = result.page.next_cursor;
		} else {
			this.moreError = result.message;
		}
		this.loadingMore = false;
	}

	/** Load every page for `query`, for lists shown whole (a timeline merged with comments). */
	async loadAll(query: Q, options: { quiet?: boolean } = {}): Promise<void> {
		await this.load(query, options);
		const generation = this.#generation;
		while (this.hasMore && !this.error && !this.moreError && generation === this.#generation) {
			await this.loadMore();
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
