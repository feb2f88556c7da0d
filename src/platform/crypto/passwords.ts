import { hash, verify, type Algorithm } from '@node-rs/argon2';

/**
 * argon2id through @node-rs/argon2 (native, off the event loop). Memory cost is configurable
 * (PASSWORD_HASH_MEMORY_KIB, default 19 MiB with 2 passes: OWASP's recommended floor); tests lower
 * it for speed. Hashes carry their own parameters, so raising the cost later still verifies old
 * hashes (and `needsRehash` says when to upgrade one at the next login).
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant work whether or not `stored` exists: pass `null` for an unknown user. */
  verify(stored: string | null, password: string): Promise<boolean>;
}

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

// const enum in the typings: the value is spelled out so transpilers that do not inline it work too.
const ARGON2ID = 2 as Algorithm;

export function createPasswordHasher(memoryKib: number): PasswordHasher {
  const options = { algorithm: ARGON2ID, memoryCost: memoryKib, timeCost: 2, parallelism: 1 };
  // For unknown emails: verifying against a real hash of the same cost makes "no such user" take
  // as long as "wrong password", so response timing does not reveal which emails have accounts.
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= hash('caly-dummy-password-for-timing', options));
  return {
    hash: (password) => hash(password, options),
    async verify(stored, password) {
      const target = stored ?? (await dummyHash());
      const ok = await verify(target, password).catch(() => false);
      return stored !== null && ok;
    },
  };
}
