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
	mail_enabled: true
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

	it('follows the tickets, sign-up, GitHub and mail switches', () => {
		instance.config = CONFIG;
		expect(instance.mailEnabled).toBe(true);
		instance.config = { ...CONFIG, tickets_enabled: false, signup_enabled: false, github_enabled: false, mail_enabled: false };
		expect(instance.ticketsEnabled).toBe(false);
		expect(instance.signupEnabled).toBe(false);
		expect(instance.githubEnabled).toBe(false);
		expect(instance.mailEnabled).toBe(false);
	});

	it('before the config is known, hides attachments, GitHub and mail but keeps tickets and sign-up reachable', () => {
		expect(instance.attachments).toBeNull();
		expect(instance.githubEnabled).toBe(false);
		expect(instance.mailEnabled).toBe(false);
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
