import { describe, expect, it } from 'vitest';
import { checkFile, checkFiles, formatBytes, MAX_FILES_PER_UPLOAD } from './attachments';

const file = (name: string, size: number, type = '') => new File([new Uint8Array(size)], name, { type });

describe('attachment checks before upload', () => {
	it('accepts allowed types within the size limit', () => {
		expect(checkFile(file('shot.png', 10, 'image/png'))).toBeNull();
		expect(checkFile(file('server.log', 10))).toBeNull();
		expect(checkFile(file('report.PDF', 10, 'application/pdf'))).toBeNull();
	});

	it('refuses big, empty and disallowed files with a clear message', () => {
		expect(checkFile({ name: 'big.zip', size: 11 * 1024 * 1024, type: 'application/zip' })).toMatch(/limit is 10 MB/);
		expect(checkFile({ name: 'big.zip', size: 3 * 1024 * 1024, type: 'application/zip' }, 2)).toMatch(/limit is 2 MB/);
		expect(checkFile(file('empty.txt', 0, 'text/plain'))).toMatch(/empty/);
		expect(checkFile(file('setup.exe', 10, 'application/x-msdownload'))).toMatch(/not allowed/);
	});

	it('limits files per upload', () => {
		const files = Array.from({ length: 4 }, (_, i) => file(`f${i}.txt`, 1, 'text/plain'));
		const checks = checkFiles(files, 2);
		expect(checks.filter((c) => c.error)).toHaveLength(1);
		expect(checks[3].error).toMatch(/at most 5 files/);
	});

	it('formats sizes', () => {
		expect(formatBytes(512)).toBe('512 B');
		expect(formatBytes(2048)).toBe('2.0 KB');
		expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
	});
});
