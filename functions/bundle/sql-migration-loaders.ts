// node-pg-migrate's loaders of JavaScript and TypeScript migrations (jiti) and of glob patterns (glob), as the
// migrate bundle has them: loadwatch's migrations are .sql files in one folder (lib/db/migrations.ts), which
// node-pg-migrate reads itself, so serverless.yml (custom.esbuild.alias) builds this module in place of those two
// packages, ~270 KiB the function would never run, and a file they were needed for is named instead.

const SQL_ONLY = 'the migrate function runs the .sql migrations of migrations/ only';

/** node-pg-migrate's loader of .js and .ts migrations, which reads no file here. */
export function createJiti() {
  return {
    async import(file: string): Promise<never> {
      throw new Error(`migration ${file}: ${SQL_ONLY}; write it as a .sql file`);
    },
  };
}

/** node-pg-migrate lists a migrations folder with glob only when given a pattern (useGlob). */
export async function glob(pattern: string | string[]): Promise<never> {
  throw new Error(`migrations ${String(pattern)}: ${SQL_ONLY}, not a glob pattern`);
}
