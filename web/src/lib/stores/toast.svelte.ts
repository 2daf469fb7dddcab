/** Transient notifications (sonner-like): toast.success('Saved'), toast.error('…'). */
export type ToastKind = 'success' | 'error' | 'info';
export interface Toast {
	id: number;
	kind: ToastKind;
	message: string;
	description?: string;
}

class Toaster {
	items = $state<Toast[]>([]);
	#next = 1;

	show(kind: ToastKind, message: string, description?: string, durationMs = kind === 'error' ? 7000 : 4000): number {
		const id = this.#next++;
		this.items = [...this.items, { id, kind, message, description }].slice(-5);
		if (durationMs > 0) setTimeout(() => this.dismiss(id), durationMs);
		return id;
	}
	success(message: string, description?: string) {
		return this.show('success', message, description);
	}
	error(message: string, description?: string) {
		return this.show('error', message, description);
	}
	info(message: string, description?: string) {
		return this.show('info', message, description);
	}
	dismiss(id: number): void {
		this.items = this.items.filter((t) => t.id !== id);
	}
}

export const toast = new Toaster();
