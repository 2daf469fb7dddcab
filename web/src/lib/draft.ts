/** Autosaved drafts of forms, kept in localStorage so a reload or crash loses nothing. */

export interface DraftStorage {
	getItem(key: string): string | null;
	setItem(key: string, value: string): void;
	removeItem(key: string): void;
}

interface Envelope<T> {
	v: 1;
	savedAt: string;
	data: T;
}

const PREFIX = 'ticketdesk:draft:';

function defaultStorage(): DraftStorage | null {
	try {
		return typeof localStorage === 'undefined' ? null : localStorage;
	} catch {
		return null; // Storage disabled (privacy mode): drafts simply are not kept.
	}
}

export function draftKey(name: string, userId?: string | null): string {
	return `${PREFIX}${name}${userId ? `:${userId}` : ''}`;
}

/** Save a draft; returns false when storage is unavailable or full. */
export function saveDraft<T>(key: string, data: T, storage = defaultStorage(), now = new Date()): boolean {
	if (!storage) return false;
	const envelope: Envelope<T> = { v: 1, savedAt: now.toISOString(), data };
	try {
		storage.setItem(key, JSON.stringify(envelope));
		return true;
	} catch {
		return false;
	}
}

/** Load a draft; corrupt or foreign values are dropped rather than crashing the form. */
export function loadDraft<T extends object>(
	key: string,
	storage = defaultStorage()
): { data: Partial<T>; savedAt: Date } | null {
	if (!storage) return null;
	const raw = storage.getItem(key);
	if (!raw) return null;
	try {
		const parsed = JSON.parse(raw) as Envelope<T>;
		if (parsed?.v !== 1 || typeof parsed.data !== 'object' || parsed.data === null) throw new Error('bad draft');
		return { data: parsed.data as Partial<T>, savedAt: new Date(parsed.savedAt) };
	} catch {
		storage.removeItem(key);
		return null;
	}
}

export function clearDraft(key: string, storage = defaultStorage()): void {
	storage?.removeItem(key);
}

/** True when a draft has anything worth keeping. */
export function isDraftEmpty(data: Record<string, unknown>): boolean {
	return Object.values(data).every((v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === ''));
}

/** Debounce saves: call `schedule(data)` on every keystroke, it writes after `delay` ms of quiet. */
export function createDraftSaver<T>(key: string, delay = 400, storage = defaultStorage()) {
	let timer: ReturnType<typeof setTimeout> | undefined;
	let pending: (() => void) | null = null;
	const stop = () => {
		clearTimeout(timer);
		pending = null;
	};
	return {
		schedule(data: T, onSaved?: () => void) {
			stop();
			pending = () => {
				pending = null;
				if (saveDraft(key, data, storage)) onSaved?.();
			};
			timer = setTimeout(pending, delay);
		},
		/** Save now what waits to be saved (the form is going away). */
		flush() {
			clearTimeout(timer);
			pending?.();
		},
		cancel: stop,
		clear() {
			stop();
			clearDraft(key, storage);
		}
	};
}

/** A random key for Idempotency-Key; crypto.randomUUID only exists on secure origins. */
export function newIdempotencyKey(): string {
	if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
	const bytes = new Uint8Array(16);
	crypto.getRandomValues(bytes);
	return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
