export { ajv } from './ajv';
export {
  PRODUCT_FORMATS,
  isAlphanumeric,
  isEmail,
  isHttpUrl,
  isIsoDate,
  isIsoDateTime,
  isNoSpecialChars,
  isPhone,
  isUuid,
  type ProductFormat,
} from './formats';
export { isE164, normalizePhone } from './phone';
export { FORBIDDEN_KEYS, findForbiddenKeys, hasForbiddenKey, rejectPrototypeKeys } from './prototype-guard';
export {
  compileInput,
  validate,
  type CheckResult,
  type InputShape,
  type RawInput,
  type SchemasFor,
  type ValidatedInput,
  type ValidatedState,
} from './validate';
export * as schemas from './schemas';
