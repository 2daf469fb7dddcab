import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceConfig } from '$lib/api/types';
import { instance } from './instance.svelte';

const CONFIG: InstanceConfig = {
	version: '1.0.0',
	tickets_enabled: true,
	signup_enabled: true,
	allow_attachments: true,
	max_attachment_size_mb: 25,
	max_files_per_upload: 3,
	allowed_media_types: ['image/png'],
	github_enabled: true,
	mail_enabled: true,
	verify_email: true
};

afterEach(() => {
	instance.config = null;
});

describe('instance switches', () => {
	it('offers the published upload rules while attachments are allowed', () => {
		instance.config = CONFIG;
		expect(instance.attachments).toMatchObject({ max_attachment_size_mb: 25, max_files_per_upload: 3, allowed_media_types: ['image/png'] });
		instance.config = { ...CONFIG, allow_attachments: false };
		expect(instance.attachments).toBeNull();
	});

	it('follows the tickets, sign-up, GitHub, mail and address confirmation switches', () => {
		instance.config = CONFIG;
		expect(instance.mailEnabled).toBe(true);
		expect(instance.verifyEmail).toBe(true);
		instance.config = { ...CONFIG, tickets_enabled: false, signup_enabled: false, github_enabled: false, mail_enabled: false, verify_email: false };
		expect(instance.ticketsEnabled).toBe(false);
		expect(instance.signupEnabled).toBe(false);
		expect(instance.githubEnabled).toBe(false);
		expect(instance.mailEnabled).toBe(false);
		expect(instance.verifyEmail).toBe(false);
	});

	it('before the config is known, hides attachments, GitHub, mail and address confirmation but keeps tickets and sign-up reachable', () => {
		expect(instance.attachments).toBeNull();
		expect(instance.githubEnabled).toBe(false);
		expect(instance.mailEnabled).toBe(false);
		expect(instance.verifyEmail).toBe(false);
		expect(instance.ticketsEnabled).toBe(true);
		expect(instance.signupEnabled).toBe(true);
	});

	it('promises mail only when the server says it sends some', () => {
		expect(instance.mailEnabled).toBe(false);
		instance.config = CONFIG;
		expect(instance.mailEnabled).toBe(true);
		instance.config = { ...CONFIG, mail_enabled: false };
		expect(instance.mailEnabled).toBe(false);
	});
});
