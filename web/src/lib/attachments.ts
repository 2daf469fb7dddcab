/** Attachment checks done before upload (the server checks again) and upload with progress. */
import { currentCsrfToken, CSRF_HEADER } from '$lib/api/client';
import { toFormProblem, type FormProblem } from '$lib/api/problem';

export const MAX_FILES_PER_UPLOAD = 5;
export const DEFAULT_MAX_SIZE_MB = 10;

/** SPEC §2 default allow-list: images, PDF, plain text, logs, zip. */
export const ALLOWED_EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif', 'webp', 'pdf', 'txt', 'log', 'md', 'csv', 'json', 'zip'];
const ALLOWED_TYPES = [/^image\/(png|jpe?g|gif|webp)$/, /^application\/pdf$/, /^text\/plain$/, /^text\/(markdown|csv|x-log)$/, /^application\/(zip|x-zip-compressed|json)$/];
export const ACCEPT_ATTRIBUTE = ALLOWED_EXTENSIONS.map((e) => `.${e}`).join(',');

export interface FileCheck {
	file: File;
	error: string | null;
}

export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
	return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function extension(name: string): string {
	const dot = name.lastIndexOf('.');
	return dot === -1 ? '' : name.slice(dot + 1).toLowerCase();
}

/** Why this file would be refused, or null if it looks fine. */
export function checkFile(file: Pick<File, 'name' | 'size' | 'type'>, maxSizeMb = DEFAULT_MAX_SIZE_MB): string | null {
	if (file.size === 0) return `${file.name} is empty.`;
	if (file.size > maxSizeMb * 1024 * 1024) {
		return `${file.name} is ${formatBytes(file.size)}; the limit is ${maxSizeMb} MB per file.`;
	}
	const typeOk = file.type ? ALLOWED_TYPES.some((re) => re.test(file.type)) : false;
	if (!typeOk && !ALLOWED_EXTENSIONS.includes(extension(file.name))) {
		return `${file.name}: this file type is not allowed (images, PDF, text, logs or zip).`;
	}
	return null;
}

/** Check a batch against what is already queued, including the per-upload count limit. */
export function checkFiles(files: File[], alreadyQueued: number, maxSizeMb = DEFAULT_MAX_SIZE_MB): FileCheck[] {
	return files.map((file, i) => {
		if (alreadyQueued + i >= MAX_FILES_PER_UPLOAD) {
			return { file, error: `${file.name}: at most ${MAX_FILES_PER_UPLOAD} files per ticket submission.` };
		}
		return { file, error: checkFile(file, maxSizeMb) };
	});
}

/**
 * Upload files to a ticket with progress. XMLHttpRequest because fetch cannot report upload
 * progress; this is the one hand-written request (multipart), mirroring the OpenAPI path.
 */
export function uploadAttachments(
	ticketId: string,
	files: File[],
	onProgress: (fraction: number) => void,
	signal?: AbortSignal
): Promise<unknown> {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('POST', `/api/v1/tickets/${encodeURIComponent(ticketId)}/attachments`);
		xhr.withCredentials = true;
		xhr.setRequestHeader('Accept', 'application/json');
		const token = currentCsrfToken();
		if (token) xhr.setRequestHeader(CSRF_HEADER, token);
		xhr.upload.onprogress = (e) => {
			if (e.lengthComputable) onProgress(e.loaded / e.total);
		};
		xhr.onload = () => {
			let body: unknown = null;
			try {
				body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
			} catch {
				body = null;
			}
			if (xhr.status >= 200 && xhr.status < 300) {
				onProgress(1);
				resolve(body);
			} else {
				const problem: FormProblem = toFormProblem(body, `Upload failed (HTTP ${xhr.status}).`);
				reject(problem);
			}
		};
		xhr.onerror = () => reject({ message: 'Upload failed: cannot reach the server.', fields: {} } satisfies FormProblem);
		xhr.onabort = () => reject({ message: 'Upload cancelled.', fields: {} } satisfies FormProblem);
		signal?.addEventListener('abort', () => xhr.abort());
		const form = new FormData();
		for (const file of files) form.append('files', file, file.name);
		xhr.send(form);
	});
}

