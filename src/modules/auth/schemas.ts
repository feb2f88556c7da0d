import type { JSONSchemaType } from 'ajv';
import { schemas } from '../../platform/validation';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../platform/crypto/passwords';
import { REFRESH_TOKEN_PATTERN } from './tokens';

export interface LoginBody {
  email: string;
  password: string;
}
export const loginBody: JSONSchemaType<LoginBody> = {
  type: 'object',
  properties: {
    email: schemas.email,
    // Any non-empty password may be tried: the minimum applies when one is set, not at login.
    password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
  },
  required: ['email', 'password'],
};

export interface RefreshBody {
  refreshToken: string;
}
export const refreshBody: JSONSchemaType<RefreshBody> = {
  type: 'object',
  properties: { refreshToken: { type: 'string', pattern: REFRESH_TOKEN_PATTERN } },
  required: ['refreshToken'],
};

export interface PasswordBody {
  currentPassword: string;
  newPassword: string;
}
export const passwordBody: JSONSchemaType<PasswordBody> = {
  type: 'object',
  properties: {
    currentPassword: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
    newPassword: { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX },
  },
  required: ['currentPassword', 'newPassword'],
};
