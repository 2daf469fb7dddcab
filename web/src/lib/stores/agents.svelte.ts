import { api as defaultApi, type ApiClient } from '$lib/api/client';
import { CursorList } from '$lib/api/cursor-list.svelte';
import type { User } from '$lib/api/types';

const STAFF_ROLES = ['agent', 'admin'] as const;

/** Staff who can be assigned tickets (agents and admins), loaded once for pickers. */
export class Agents {
	items = $state<User[]>([]);
	loaded = $state(false);
	readonly #api: ApiClient;
	#pending: Promise<void> | null = null;

	constructor({ api = defaultApi }: { api?: ApiClient } = {}) {
		this.#api = api;
	}

	/** Read the staff unless they are known (or on their way); `force` reads them again, after
	 * a read in flight, which may have started before what made the caller ask. */
	load(force = false): Promise<void> {
		if (this.#pending && !force) return this.#pending;
		if (this.loaded && !force) return Promise.resolve();
		const read: Promise<void> = (this.#pending ?? Promise.resolve())
			.then(() => this.#read())
			.finally(() => {
				if (this.#pending === read) this.#pending = null;
			});
		this.#pending = read;
		return read;
	}

	name(id: string | null | undefined): string | null {
		return id ? (this.items.find((u) => u.id === id)?.name ?? null) : null;
	}

	async #read(): Promise<void> {
		const lists = STAFF_ROLES.map((role) => new CursorList((cursor) => this.#api.GET('/api/v1/users', { params: { query: { role, limit: 100, cursor } } })));
		await Promise.all(lists.map((list) => list.loadAll()));
		// Staff read in part would be all the pickers offer for the rest of the visit: the
		// next load tries again instead.
		if (lists.some((list) => list.error || list.moreError)) return;
		this.items = lists
			.flatMap((list) => list.items)
			.filter((u) => u.is_active)
			.sort((a, b) => a.name.localeCompare(b.name));
		this.loaded = true;
	}
}

export const agents = new Agents();
