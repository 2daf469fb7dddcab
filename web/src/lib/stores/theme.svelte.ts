/** Light/dark theme: follows the system until the person picks one (stored locally). */
export type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'ticketdesk:theme';

class Theme {
	choice = $state<ThemeChoice>('system');
	dark = $state(false);
	#media: MediaQueryList | null = null;

	init(): void {
		if (typeof window === 'undefined') return;
		const stored = localStorage.getItem(KEY);
		this.choice = stored === 'light' || stored === 'dark' ? stored : 'system';
		this.#media = window.matchMedia('(prefers-color-scheme: dark)');
		this.#media.addEventListener('change', () => this.apply());
		this.apply();
	}

	set(choice: ThemeChoice): void {
		this.choice = choice;
		if (choice === 'system') localStorage.removeItem(KEY);
		else localStorage.setItem(KEY, choice);
		this.apply();
	}

	toggle(): void {
		this.set(this.dark ? 'light' : 'dark');
	}

	apply(): void {
		this.dark = this.choice === 'system' ? (this.#media?.matches ?? false) : this.choice === 'dark';
		document.documentElement.classList.toggle('dark', this.dark);
	}
}

export const theme = new Theme();
