/**
 * Base of the repositories that run many small statements: each SQL text is prepared once and
 * reused, since preparing is a large share of a small statement's cost.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.ts';

export abstract class CachedStatementsRepository {
  private readonly statements = new Map<string, Statement>();

  constructor(protected readonly db: Db) {}

  /** The prepared statement for `text`, prepared on first use. */
  protected sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }
}
