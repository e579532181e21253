// Bearer tokens for the API's write endpoints: only their SHA-256 is stored.

import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/pool.ts';

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Issues a new token under `name`, revoking the previous active one of that name. */
export async function issueToken(db: Db, name: string): Promise<string> {
  const token = `lw_${randomBytes(24).toString('base64url')}`;
  await db.transaction(async (client) => {
    await client.query(`UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`, [
      name,
    ]);
    await client.query(`INSERT INTO api_tokens (name, token_hash) VALUES ($1, $2)`, [name, hashToken(token)]);
  });
  return token;
}

/** The token's name when it is valid and not revoked; null otherwise. */
export async function verifyToken(db: Db, token: string): Promise<string | null> {
  const result = await db.query<{ name: string }>(
    `UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING name`,
    [hashToken(token)],
  );
  return result.rows[0]?.name ?? null;
}
