/**
 * graphql-js quotes the whole rejected variable value in coercion errors ("Variable "$i"
 * got invalid value { password: "..." } at ..."), and the reason after it may quote it again
 * (a scalar's "Float cannot represent non numeric value: "..."", an enum's 'Value "..." does
 * not exist'), which would put credentials into responses and logs. Keep the variable, the
 * path and the words of the reason; drop the value wherever it is quoted.
 */
export function redactInputEcho(message: string): string {
  const m = /^(Variable "\$[^"]+") got invalid value ([\s\S]*)$/.exec(message);
  if (!m) return message;
  const tail = /( at "[^"]*")?; ([^;"]*(?:"[^"]*"[^;"]*)*)$/.exec(m[2]!);
  const reason = (tail?.[2] ?? '').replace(/:\s[\s\S]*$/, '').replace(/^Value "[^"]*"/, 'The value');
  return `${m[1]} got an invalid value${tail?.[1] ?? ''}${reason ? `; ${reason}` : ''}`;
}
