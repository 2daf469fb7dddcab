/** The reporter's environment, attached to a new ticket's `metadata` so staff need not ask. */

export interface ClientEnvironment {
	app_version: string;
	browser: string;
	os: string;
	language?: string;
	viewport?: string;
	timezone?: string;
	user_agent: string;
}

export interface NavigatorLike {
	userAgent: string;
	language?: string;
	platform?: string;
}

/** Browser name and major version from a user-agent string; order matters (Edge says Chrome too). */
export function detectBrowser(ua: string): string {
	const rules: [RegExp, string][] = [
		[/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
		[/OPR\/(\d+)/, 'Opera'],
		[/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
		[/Firefox\/(\d+)/, 'Firefox'],
		[/FxiOS\/(\d+)/, 'Firefox'],
		[/CriOS\/(\d+)/, 'Chrome'],
		[/HeadlessChrome\/(\d+)/, 'Headless Chrome'],
		[/Chromium\/(\d+)/, 'Chromium'],
		[/Chrome\/(\d+)/, 'Chrome'],
		[/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari']
	];
	for (const [pattern, name] of rules) {
		const match = ua.match(pattern);
		if (match) return `${name} ${match[1]}`;
	}
	return 'Unknown browser';
}

/** Operating system (with version where the user agent tells it). */
export function detectOs(ua: string): string {
	let m: RegExpMatchArray | null;
	if ((m = ua.match(/Windows NT (\d+\.\d+)/))) {
		const names: Record<string, string> = { '10.0': '10/11', '6.3': '8.1', '6.2': '8', '6.1': '7' };
		return `Windows ${names[m[1]] ?? m[1]}`;
	}
	if ((m = ua.match(/(?:iPhone|iPad|iPod).*? OS (\d+)[_\d]*/))) return `iOS ${m[1]}`;
	if ((m = ua.match(/Android (\d+(?:\.\d+)?)/))) return `Android ${m[1]}`;
	if ((m = ua.match(/Mac OS X (\d+)[_.](\d+)/))) return `macOS ${m[1]}.${m[2]}`;
	if (/CrOS/.test(ua)) return 'ChromeOS';
	if (/Linux/.test(ua)) return 'Linux';
	return 'Unknown OS';
}

/** Capture the environment; every input is injectable so this is testable without a browser. */
export function captureEnvironment(
	appVersion: string,
	nav: NavigatorLike | undefined = typeof navigator === 'undefined' ? undefined : navigator,
	win: { innerWidth: number; innerHeight: number } | undefined = typeof window === 'undefined' ? undefined : window
): ClientEnvironment {
	const ua = nav?.userAgent ?? '';
	const env: ClientEnvironment = {
		app_version: appVersion,
		browser: detectBrowser(ua),
		os: detectOs(ua),
		user_agent: ua
	};
	if (nav?.language) env.language = nav.language;
	if (win) env.viewport = `${win.innerWidth}×${win.innerHeight}`;
	try {
		env.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
	} catch {
		/* older engines: leave it out */
	}
	return env;
}
