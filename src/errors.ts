/**
 * One registry of error codes. Code decides behaviour (exit code, HTTP status,
 * retry); the message is for people. Tests match codes, not text.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'configuration is missing or invalid',
  POST_UNREADABLE: 'the post file cannot be read',
  MESSAGE_UNREADABLE: 'the saved message cannot be read',
  POST_FRONT_MATTER_INVALID: 'the front matter is not valid',
  POST_TITLE_MISSING: 'the post has no title',
  POST_DATE_INVALID: 'the post date cannot be read',
  POST_TOO_LARGE: 'the post is too large to send as an email',
  RENDER_FAILED: 'the email could not be rendered',
  INPUT_INVALID: 'the input is not valid',
  SUBSCRIBER_EMAIL_INVALID: 'the email address is not valid',
  SUBSCRIBER_NOT_FOUND: 'no such subscriber',
  IMPORT_FILE_INVALID: 'the import file cannot be read',
  UNSUBSCRIBE_TOKEN_INVALID: 'the token is forged, truncated or stale',
  HEADER_VALUE_INVALID: 'a header value contains a line break',
  REDIS_UNSAFE: 'Redis is configured in a way that can lose data',
  REDIS_UNAVAILABLE: 'Redis refused the command or could not be reached; try again once it answers',
  CAMPAIGN_NOT_FOUND: 'no such campaign',
  CAMPAIGN_STATE_INVALID: 'the campaign cannot do that in its current state',
  SMTP_DEFERRED: 'the SMTP server deferred the message',
  SMTP_NOT_CONFIGURED: 'SMTP_URL is not set',
  TEST_SEND_FAILED: 'the SMTP server did not accept the test message',
  ADMIN_TOKEN_INVALID: 'the admin bearer token is missing or wrong',
  REQUEST_TOO_LARGE: 'the request body, a part of it or its URL is over the limit',
  CONTENT_TYPE_UNSUPPORTED: 'the request body is of a type this route does not read',
  RATE_LIMITED: 'too many requests from this address',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in the user's input the problem is. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  field?: string;
}

export class NewsletterError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } & ErrorLocation = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NewsletterError';
    this.code = code;
    const { file, line, field } = options;
    this.location = { file, line, field };
  }

  /** One line for a terminal: `file:line: field: message [CODE]`. */
  toOneLine(): string {
    const { file, line, field } = this.location;
    const where = [file && (line ? `${file}:${line}` : file), field].filter(Boolean).join(': ');
    return `${where ? `${where}: ` : ''}${this.message} [${this.code}]`;
  }
}

export function isNewsletterError(error: unknown, code?: ErrorCode): error is NewsletterError {
  return error instanceof NewsletterError && (code === undefined || error.code === code);
}
