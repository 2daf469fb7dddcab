import { describe, expect, it } from 'vitest';
import { captureEnvironment, detectBrowser, detectOs } from './environment';

const UA = {
	chromeWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
	edgeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86',
	firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
	safariIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
	safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
	chromeAndroid: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
	headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.0 Safari/537.36'
};

describe('environment capture', () => {
	it.each([
		[UA.chromeWin, 'Chrome 131', 'Windows 10/11'],
		[UA.edgeMac, 'Edge 131', 'macOS 10.15'],
		[UA.firefoxLinux, 'Firefox 133', 'Linux'],
		[UA.safariIos, 'Safari 17', 'iOS 17'],
		[UA.safariMac, 'Safari 17', 'macOS 14.5'],
		[UA.chromeAndroid, 'Chrome 131', 'Android 14'],
		[UA.headless, 'Headless Chrome 120', 'Linux']
	])('reads %s', (ua, browser, os) => {
		expect(detectBrowser(ua)).toBe(browser);
		expect(detectOs(ua)).toBe(os);
	});

	it('says unknown rather than guessing', () => {
		expect(detectBrowser('curl/8.0')).toBe('Unknown browser');
		expect(detectOs('curl/8.0')).toBe('Unknown OS');
	});

	it('captures app version, browser, OS and extras', () => {
		const env = captureEnvironment('1.2.3', { userAgent: UA.firefoxLinux, language: 'de-DE' }, { innerWidth: 390, innerHeight: 844 });
		expect(env).toMatchObject({ app_version: '1.2.3', browser: 'Firefox 133', os: 'Linux', language: 'de-DE', viewport: '390×844', user_agent: UA.firefoxLinux });
		expect(typeof env.timezone).toBe('string');
	});
});
