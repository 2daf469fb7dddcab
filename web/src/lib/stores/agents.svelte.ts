import { api } from '$lib/api/client';
import type { User } from '$lib/api/types';

/** Staff who can be assigned tickets (agents and admins), loaded once for pickers. */
class Agents {
	items = $state<User[]>([]);
	loaded = $state(false);
	#pending: Promise<void> | null = null;

	load(force = false): Promise<void> {
		if (this.loaded && !force) return Promise.resolve();
		this.#pending ??= Promise.all(
			(['agent', 'admin'] as const).map((role) => api.GET('/api/v1/users', { params: { query: { role, limit: 100 } } }))
		)
			.then((results) => {
				const all = results.flatMap((r) => r.data?.items ?? []).filter((u) => u.is_active);
				this.items = all.sort((a, b) => a.name.localeCompare(b.name));
				this.loaded = true;
			})
			.catch(() => undefined)
			.finally(() => (this.#pending = null));
		return this.#pending;
	}

	name(id: string | null | undefined): string | null {
		return id ? (this.items.find((u) => u.id === id)?.name ?? null) : null;
	}
}

export const agents = new Agents();
