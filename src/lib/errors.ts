/**
 * Errors a service may throw; the app's error handler renders each the way Chatwoot's
 * RequestExceptionHandler does (see app.ts).
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : `HTTP ${statusCode}`);
  }
}

export const NOT_FOUND_MESSAGE = 'Resource could not be found';
export const NOT_AUTHORIZED_ACTION = 'You are not authorized to do this action';

/** 404 {"error":"Resource could not be found"} — Rails' RecordNotFound. */
export const notFound = (message = NOT_FOUND_MESSAGE) => new HttpError(404, { error: message });
/** 401 {"error": message} — render_unauthorized. */
export const unauthorized = (message = NOT_AUTHORIZED_ACTION) => new HttpError(401, { error: message });
/** 422 {"error": message} — render_could_not_create_error (ParameterMissing and friends). */
export const unprocessable = (message: string) => new HttpError(422, { error: message });
export const badRequest = (message: string) => new HttpError(400, { error: 'Bad Request', message });

/** Rails' attribute humanizer: "phone_number" → "Phone number". */
export function humanize(attribute: string): string {
  const words = attribute.replace(/_id$/, '').replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Collects validation failures like ActiveModel::Errors and throws them as Chatwoot's
 * 422 {"message": "Email has already been taken, Name can't be blank", "attributes": ["email","name"]}.
 */
export class RecordErrors {
  private readonly items: { attribute: string; message: string }[] = [];

  /** `message` is the part after the attribute name, e.g. "has already been taken". */
  add(attribute: string, message: string): this {
    this.items.push({ attribute, message });
    return this;
  }

  /** A message that stands alone (no attribute name in front), e.g. under :base. */
  addFull(attribute: string, fullMessage: string): this {
    this.items.push({ attribute, message: `\u0000${fullMessage}` });
    return this;
  }

  get any(): boolean {
    return this.items.length > 0;
  }

  toError(): HttpError {
    const messages = this.items.map((i) => (i.message.startsWith('\u0000') ? i.message.slice(1) : `${humanize(i.attribute)} ${i.message}`));
    const attributes = [...new Set(this.items.map((i) => i.attribute))];
    return new HttpError(422, { message: messages.join(', '), attributes });
  }

  throwIfAny(): void {
    if (this.any) throw this.toError();
  }
}

export function recordInvalid(attribute: string, message: string): HttpError {
  return new RecordErrors().add(attribute, message).toError();
}

/** An error's `code` (SQLite's, PostgreSQL's SQLSTATE, Node's, Fastify's), if it has one. */
export const errorCode = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/** True when a write failed on a UNIQUE constraint (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * A write that lost a uniqueness race (the validation passed, a concurrent insert won) becomes
 * Rails' 422 "<Attribute> has already been taken"; any other error passes through unchanged.
 */
export function asTaken(error: unknown, attribute: string): unknown {
  return isUniqueViolation(error) ? recordInvalid(attribute, 'has already been taken') : error;
}

export function isForeignKeyViolation(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/**
 * PostgreSQL refused a number for an integer column: beyond 2 147 483 647 (22003), or not an
 * integer at all, such as `1e+23` from a 23-digit id (22P02). No row can hold it, so it is Rails'
 * RecordNotFound, as SQLite's answer for the same request is (it compares and finds nothing).
 */
export function isUnstorableNumber(error: unknown): boolean {
  const code = errorCode(error);
  return code === '22003' || code === '22P02';
}

/**
 * PostgreSQL refused text it cannot store: the NUL character, in a text column (22021) or as a
 * jsonb key or value (22P05, "unsupported Unicode escape sequence"). Rails on PostgreSQL fails the
 * same way (a 500 there). A 400 on this engine; SQLite stores such text.
 */
export function isUnstorableText(error: unknown): boolean {
  const code = errorCode(error);
  return code === '22021' || code === '22P05';
}
