import { api } from '$lib/api/client';
import type { Label } from '$lib/api/types';

/** Admin-managed labels, loaded once and shared (name → colour for chips). */
class Labels {
	items = $state<Label[]>([]);
	loaded = $state(false);
	#pending: Promise<void> | null = null;

	load(force = false): Promise<void> {
		if (this.loaded && !force) return Promise.resolve();
		this.#pending ??= api
			.GET('/api/v1/labels')
			.then(({ data }) => {
				if (data) this.items = data;
				this.loaded = true;
			})
			.catch(() => undefined)
			.finally(() => (this.#pending = null));
		return this.#pending;
	}

	color(name: string): string | null {
		return this.items.find((l) => l.name === name)?.color ?? null;
	}
}

export const labels = new Labels();
