/** Identifier and literal quoting for the SQL and replication commands we build from config. */
export function quoteIdent(name: string): string {
  if (name.includes("\0")) throw new Error("identifier contains a NUL byte");
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("literal contains a NUL byte");
  return `'${value.replace(/'/g, "''")}'`;
}
