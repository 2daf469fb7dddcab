import { afterEach, describe, expect, it, vi } from 'vitest';
import {
	acceptAttribute,
	checkFile,
	checkFiles,
	describeAllowedTypes,
	expectedMediaType,
	formatBytes,
	uploadAttachments,
	uploadFailure,
	type AttachmentRules
} from './attachments';

const file = (name: string, size: number, type = '') => new File([new Uint8Array(size)], name, { type });

/** What a default server publishes in /api/v1/config. */
const DEFAULTS: AttachmentRules = {
	max_attachment_size_mb: 10,
	max_files_per_upload: 5,
	allowed_media_types: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'application/zip', 'application/json', 'text/plain']
};
const rules = (overrides: Partial<AttachmentRules> = {}): AttachmentRules => ({ ...DEFAULTS, ...overrides });

describe('attachment checks before upload', () => {
	it('accepts allowed types within the size limit', () => {
		expect(checkFile(file('shot.png', 10, 'image/png'), DEFAULTS)).toBeNull();
		expect(checkFile(file('server.log', 10), DEFAULTS)).toBeNull();
		expect(checkFile(file('notes.md', 10, 'text/markdown'), DEFAULTS)).toBeNull();
		expect(checkFile(file('report.PDF', 10, 'application/pdf'), DEFAULTS)).toBeNull();
	});

	it('uses the size limit the server publishes', () => {
		const nineMb = { name: 'big.zip', size: 9 * 1024 * 1024, type: 'application/zip' };
		expect(checkFile(nineMb, DEFAULTS)).toBeNull();
		expect(checkFile(nineMb, rules({ max_attachment_size_mb: 2 }))).toBe('big.zip is 9.0 MB; the limit is 2 MB per file.');
		expect(checkFile({ ...nineMb, size: 11 * 1024 * 1024 }, rules({ max_attachment_size_mb: 20 }))).toBeNull();
	});

	it('uses the allowed types the server publishes', () => {
		const imagesOnly = rules({ allowed_media_types: ['image/png', 'image/jpeg'] });
		expect(checkFile(file('photo.jpg', 10, 'image/jpeg'), imagesOnly)).toBeNull();
		expect(checkFile(file('server.log', 10), imagesOnly)).toBe('server.log: this file type is not allowed (PNG or JPEG).');
		expect(checkFile(file('report.pdf', 10, 'application/pdf'), imagesOnly)).toMatch(/not allowed/);
		expect(checkFile(file('report.pdf', 10, 'application/pdf'), DEFAULTS)).toBeNull();
	});

	it('refuses empty files, markup and media the server cannot accept', () => {
		expect(checkFile(file('empty.txt', 0, 'text/plain'), DEFAULTS)).toBe('empty.txt is empty.');
		expect(checkFile(file('page.html', 10, 'text/html'), DEFAULTS)).toMatch(/HTML, SVG, XML and script files are not accepted/);
		expect(checkFile(file('logo.svg', 10, 'image/svg+xml'), DEFAULTS)).toMatch(/not accepted/);
		expect(checkFile(file('clip.mp4', 10, 'video/mp4'), DEFAULTS)).toMatch(/not allowed/);
	});

	it('leaves files it cannot judge by name to the server, which reads their bytes', () => {
		expect(expectedMediaType({ name: 'Makefile', type: '' })).toBeNull();
		expect(checkFile(file('Makefile', 10), DEFAULTS)).toBeNull();
	});

	it('limits files per upload to what the server publishes', () => {
		const files = Array.from({ length: 4 }, (_, i) => file(`f${i}.txt`, 1, 'text/plain'));
		const checks = checkFiles(files, 2, DEFAULTS);
		expect(checks.map((c) => c.error)).toEqual([null, null, null, 'f3.txt: at most 5 files per upload.']);
		const single = checkFiles(files.slice(0, 2), 0, rules({ max_files_per_upload: 1 }));
		expect(single.map((c) => c.error)).toEqual([null, 'f1.txt: at most 1 file per upload.']);
	});

	it('tells the file picker and the person what is allowed', () => {
		const pdfAndText = rules({ allowed_media_types: ['application/pdf', 'text/plain'] });
		expect(describeAllowedTypes(pdfAndText)).toBe('PDF or text and logs');
		expect(acceptAttribute(pdfAndText).split(',')).toEqual(['application/pdf', 'text/plain', '.pdf', '.txt', '.text', '.log', '.out', '.csv', '.md']);
	});

	it('formats sizes', () => {
		expect(formatBytes(512)).toBe('512 B');
		expect(formatBytes(2048)).toBe('2.0 KB');
		expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
	});
});

/** An XMLHttpRequest whose server answers every upload with `answer` (or fails to connect). */
function serverAnswering(answer: { status: number; body: string } | 'unreachable') {
	class FakeRequest {
		status = 0;
		responseText = '';
		upload: { onprogress?: (e: ProgressEvent) => void } = {};
		onload: () => void = () => undefined;
		onerror: () => void = () => undefined;
		onabort: () => void = () => undefined;
		withCredentials = false;
		open() {}
		setRequestHeader() {}
		abort() {}
		send() {
			setTimeout(() => {
				if (answer === 'unreachable') return this.onerror();
				this.status = answer.status;
				this.responseText = answer.body;
				this.onload();
			});
		}
	}
	vi.stubGlobal('XMLHttpRequest', FakeRequest);
}

async function refusal(): Promise<string> {
	try {
		await uploadAttachments('7', [file('capture.bin', 10, 'application/octet-stream')], () => undefined);
	} catch (e) {
		return uploadFailure(e);
	}
	throw new Error('the upload was not refused');
}

describe('a refused upload', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
	});

	it("says what the server said, not that something went wrong", async () => {
		const detail = 'This kind of file is not accepted. Accepted: application/pdf, image/png, text/plain.';
		serverAnswering({ status: 415, body: JSON.stringify({ type: 'about:blank', title: 'Unsupported Media Type', status: 415, detail, code: 'attachment_type_not_allowed', field: 'files' }) });
		expect(await refusal()).toBe(detail);
	});

	it('adds what the server says of each file', async () => {
		serverAnswering({
			status: 422,
			body: JSON.stringify({
				title: 'Invalid input',
				status: 422,
				detail: 'Some files were refused.',
				errors: [
					{ field: 'files', message: 'empty.txt is empty.' },
					{ field: 'files', message: 'huge.zip is over the limit of 10485760 bytes.' }
				]
			})
		});
		expect(await refusal()).toBe('Some files were refused. empty.txt is empty. huge.zip is over the limit of 10485760 bytes.');
	});

	it('keeps the status of an answer that is not from ticketdesk', async () => {
		serverAnswering({ status: 502, body: '<html>Bad Gateway</html>' });
		expect(await refusal()).toBe('Upload failed (HTTP 502).');
	});

	it('says the server could not be reached', async () => {
		serverAnswering('unreachable');
		expect(await refusal()).toBe('Cannot reach the server. Check your connection and try again.');
	});
});
