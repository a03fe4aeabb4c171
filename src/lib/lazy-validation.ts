import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler } from 'fastify';

type BuildValidator = (externalSchemas: Record<string, unknown>, options?: unknown) => FastifySchemaCompiler<unknown>;
interface Validate {
  (data: unknown, dataCxt?: unknown): unknown;
  errors?: unknown;
  schemaEnv?: unknown;
}

/**
 * Fastify's own validator compiler (@fastify/ajv-compiler, the same Ajv options), but each route's
 * validator is compiled on its first request instead of at start: compiling the few hundred schemas
 * of the route table was a fifth of the time from start to the first healthy response.
 *
 * Fastify reads a failed validation's errors from the function it was given, and passes the parent
 * object (so Ajv's type coercion can replace a top-level value) only to functions that have
 * `schemaEnv`: the wrapper copies one and claims the other.
 */
export function lazyValidatorFactory(): BuildValidator {
  const eager = (AjvCompiler as unknown as () => BuildValidator)();
  return (externalSchemas, options) => {
    let compiler: FastifySchemaCompiler<unknown> | undefined;
    return (route) => {
      let validate: Validate | undefined;
      const lazy: Validate = (data, dataCxt) => {
        validate ??= (compiler ??= eager(externalSchemas, options))(route) as Validate;
        const result = validate(data, dataCxt);
        lazy.errors = validate.errors;
        return result;
      };
      lazy.schemaEnv = true;
      return lazy as ReturnType<FastifySchemaCompiler<unknown>>;
    };
  };
}
