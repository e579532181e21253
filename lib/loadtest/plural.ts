// Counts in words for the summary, the report and alerts: "1 user", "2 users", "1,000 requests".

export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${noun}${count === 1 ? '' : 's'}`;
}
