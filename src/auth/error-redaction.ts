/**
 * graphql-js quotes the whole rejected variable value in coercion errors ("Variable "$i"
 * got invalid value { password: "..." } at ..."), which would put credentials into
 * responses and logs. Keep the variable, path and reason; drop the value.
 */
export function redactInputEcho(message: string): string {
  const m = /^(Variable "\$[^"]+") got invalid value ([\s\S]*)$/.exec(message);
  if (!m) return message;
  const tail = /( at "[^"]*")?; ([^;"]*(?:"[^"]*"[^;"]*)*)$/.exec(m[2]!);
  return `${m[1]} got an invalid value${tail ? `${tail[1] ?? ''}; ${tail[2]}` : ''}`;
}
