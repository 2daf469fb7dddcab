/**
 * Attachment checks done before upload, following the limits the server publishes in
 * /api/v1/config (the server checks again, from the bytes), and upload with progress.
 */
import { currentCsrfToken, CSRF_HEADER } from '$lib/api/client';
import { toFormProblem, type ProblemDoc } from '$lib/api/problem';
import type { InstanceConfig } from '$lib/api/types';

/** The part of the instance config that decides what may be uploaded. */
export type AttachmentRules = Pick<InstanceConfig, 'max_attachment_size_mb' | 'max_files_per_upload' | 'allowed_media_types'>;

/** Markup a browser could run if it rendered the file; the server refuses it whatever its name. */
const MARKUP = 'markup';
const TEXT = 'text/plain';

// File names and declared types the server recognises, mapped to the media type it settles
// on (see the server's attachment sniffing). Text of any flavour is stored as text/plain.
const BY_EXTENSION: Record<string, string> = {
	png: 'image/png',
	jpg: 'image/jpeg',
	jpeg: 'image/jpeg',
	jpe: 'image/jpeg',
	gif: 'image/gif',
	webp: 'image/webp',
	pdf: 'application/pdf',
	zip: 'application/zip',
	json: 'application/json',
	txt: TEXT,
	text: TEXT,
	log: TEXT,
	out: TEXT,
	csv: TEXT,
	md: TEXT,
	...Object.fromEntries(['html', 'htm', 'xhtml', 'shtml', 'svg', 'svgz', 'xml', 'xsl', 'js', 'mjs', 'hta'].map((e) => [e, MARKUP]))
};

const BY_DECLARED_TYPE: Record<string, string> = {
	'image/png': 'image/png',
	'image/x-png': 'image/png',
	'image/jpeg': 'image/jpeg',
	'image/jpg': 'image/jpeg',
	'image/pjpeg': 'image/jpeg',
	'image/gif': 'image/gif',
	'image/webp': 'image/webp',
	'application/pdf': 'application/pdf',
	'application/zip': 'application/zip',
	'application/x-zip-compressed': 'application/zip',
	'application/x-zip': 'application/zip',
	'application/json': 'application/json',
	'text/json': 'application/json',
	...Object.fromEntries(
		[
			'text/html',
			'application/xhtml+xml',
			'image/svg+xml',
			'text/xml',
			'application/xml',
			'text/javascript',
			'application/javascript',
			'application/x-javascript',
			'application/ecmascript',
			'text/ecmascript'
		].map((t) => [t, MARKUP])
	)
};

/** Words for the allowed types in the dropzone's hint; unknown types show as themselves. */
const TYPE_WORDS: Record<string, string> = {
	'image/png': 'PNG',
	'image/jpeg': 'JPEG',
	'image/gif': 'GIF',
	'image/webp': 'WebP',
	'application/pdf': 'PDF',
	'application/zip': 'zip',
	'application/json': 'JSON',
	'text/plain': 'text and logs'
};

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

/**
 * The media type the server will store a file as, judged from its name and declared type;
 * `markup` for HTML, SVG and scripts; null when only the bytes can tell (the server sniffs them).
 */
export function expectedMediaType(file: Pick<File, 'name' | 'type'>): string | null {
	const byName = BY_EXTENSION[extension(file.name)];
	const declared = file.type.toLowerCase();
	const byType = BY_DECLARED_TYPE[declared] ?? (declared.startsWith('text/') ? TEXT : undefined);
	if (byName === MARKUP || byType === MARKUP) return MARKUP;
	if (byName) return byName;
	if (byType) return byType;
	// Media the browser knows as an image, sound, video or font and that is not one of the
	// types above cannot be text either, so the server would refuse it.
	if (/^(image|audio|video|font)\//.test(declared)) return declared;
	return null;
}

/** The allowed types in words: "PNG, PDF or text and logs". */
export function describeAllowedTypes(rules: AttachmentRules): string {
	const words = rules.allowed_media_types.map((t) => TYPE_WORDS[t] ?? t);
	return words.length <= 1 ? (words[0] ?? 'none') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** The file input's `accept`: each allowed type and the file name endings that map to it. */
export function acceptAttribute(rules: AttachmentRules): string {
	const allowed = new Set(rules.allowed_media_types);
	const endings = Object.entries(BY_EXTENSION)
		.filter(([, type]) => allowed.has(type))
		.map(([ext]) => `.${ext}`);
	return [...allowed, ...endings].join(',');
}

/** Why this file would be refused, or null if it looks fine. */
export function checkFile(file: Pick<File, 'name' | 'size' | 'type'>, rules: AttachmentRules): string | null {
	if (file.size === 0) return `${file.name} is empty.`;
	const maxMb = rules.max_attachment_size_mb;
	if (file.size > maxMb * 1024 * 1024) {
		return `${file.name} is ${formatBytes(file.size)}; the limit is ${maxMb} MB per file.`;
	}
	const type = expectedMediaType(file);
	if (type === MARKUP) return `${file.name}: HTML, SVG, XML and script files are not accepted.`;
	if (type !== null && !rules.allowed_media_types.includes(type)) {
		return `${file.name}: this file type is not allowed (${describeAllowedTypes(rules)}).`;
	}
	return null;
}

/** Check a batch against what is already queued, including the per-upload count limit. */
export function checkFiles(files: File[], alreadyQueued: number, rules: AttachmentRules): FileCheck[] {
	const maxFiles = rules.max_files_per_upload;
	return files.map((file, i) => {
		if (alreadyQueued + i >= maxFiles) {
			return { file, error: `${file.name}: at most ${maxFiles} ${maxFiles === 1 ? 'file' : 'files'} per upload.` };
		}
		return { file, error: checkFile(file, rules) };
	});
}

/**
 * Why an upload failed, in the server's words: the problem's detail, then what it says of
 * each file (its `errors`), if that adds anything.
 */
export function uploadFailure(error: unknown): string {
	const problem = toFormProblem(error, 'The upload failed.');
	const perFile = ((error as ProblemDoc | null)?.errors ?? []).map((e) => e.message).filter((m) => m && m !== problem.message);
	return [problem.message, ...new Set(perFile)].join(' ');
}

/**
 * Upload files to a ticket with progress. XMLHttpRequest because fetch cannot report upload
 * progress; this is the one hand-written request (multipart), mirroring the OpenAPI path.
 * A refusal rejects with the server's problem document, as the generated client's calls do.
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
				// Not every refusal comes from ticketdesk (a proxy's 413 page): keep at least the status.
				const problem: ProblemDoc = body && typeof body === 'object' ? body : {};
				reject({ status: xhr.status, detail: `Upload failed (HTTP ${xhr.status}).`, ...problem } satisfies ProblemDoc);
			}
		};
		xhr.onerror = () => reject(new TypeError('The upload could not reach the server.'));
		xhr.onabort = () => reject({ detail: 'Upload cancelled.' } satisfies ProblemDoc);
		signal?.addEventListener('abort', () => xhr.abort());
		const form = new FormData();
		for (const file of files) form.append('files', file, file.name);
		xhr.send(form);
	});
}
