import { api as defaultApi, type ApiClient } from '$lib/api/client';
import type { Team } from '$lib/api/types';

/** The teams (staff only), loaded once for the triage queues and the ticket page's picker. */
export class Teams {
	items = $state<Team[]>([]);
	loaded = $state(false);
	readonly #api: ApiClient;
	#pending: Promise<void> | null = null;

	constructor({ api = defaultApi }: { api?: ApiClient } = {}) {
		this.#api = api;
	}

	/** Read the teams unless they are known (or on their way); `force` reads them again. */
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
		return id ? (this.items.find((t) => t.id === id)?.name ?? null) : null;
	}

	async #read(): Promise<void> {
		const { data } = await this.#api.GET('/api/v1/teams');
		if (!data) return;
		this.items = data;
		this.loaded = true;
	}
}

export const teams = new Teams();
