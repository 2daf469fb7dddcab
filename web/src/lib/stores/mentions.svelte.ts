import { api as defaultApi, type ApiClient } from '$lib/api/client';
import type { Mention } from '$lib/api/types';

/** The internal notes that mention the signed-in agent: the newest, and how many are unread. */
export class Mentions {
	items = $state<Mention[]>([]);
	unread = $state(0);
	readonly #api: ApiClient;

	constructor({ api = defaultApi }: { api?: ApiClient } = {}) {
		this.#api = api;
	}

	/** Read them again (a failure keeps what is shown). */
	async load(): Promise<void> {
		try {
			const { data } = await this.#api.GET('/api/v1/me/mentions', { params: { query: { limit: 50 } } });
			if (!data) return;
			this.items = data.items;
			this.unread = data.unread;
		} catch {
			// Offline for a moment: the badge stays as it was.
		}
	}

	/** Mark every mention read. */
	async markRead(): Promise<void> {
		const { error } = await this.#api.POST('/api/v1/me/mentions/read');
		if (!error) await this.load();
	}
}

export const mentions = new Mentions();
