// Numbers, durations and times as the service's HTML pages print them: 1,234, 1.2k, 340 ms, 1:05, 2 min 5 s.

// Built by their first use: the first Intl.NumberFormat loads ICU's locale data, ~10 ms of the api's cold import.
const formats: Intl.NumberFormat[] = [];

/** 1,234.57 with at most `fractionDigits` decimals; "–" for no number. */
function formatNumber(value: number, fractionDigits: 0 | 2): string {
  if (!Number.isFinite(value)) return '–';
  formats[fractionDigits] ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: fractionDigits });
  return formats[fractionDigits].format(value);
}

export const formatCount = (value: number) => formatNumber(value, 0);
export const formatDecimal = (value: number) => formatNumber(value, 2);

/** 1.2k, 3.4M: short enough for an axis. */
export function formatCompact(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${trimNumber(value / 1e9)}G`;
  if (magnitude >= 1e6) return `${trimNumber(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${trimNumber(value / 1e3)}k`;
  return formatDecimal(value);
}

export function trimNumber(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Three significant digits, four for a table's hundreds of milliseconds. */
export function formatMs(value: number, digits: 3 | 4 = 4): string {
  if (!Number.isFinite(value)) return '–';
  if (value < 1) return `${trimNumber(value)} ms`;
  if (value < 1000) return `${formatDecimal(Number(value.toPrecision(value < 100 ? 3 : digits)))} ms`;
  if (value < 60_000) return `${trimNumber(value / 1000)} s`;
  if (value < 3_600_000) return `${trimNumber(value / 60_000)} min`;
  return `${trimNumber(value / 3_600_000)} h`;
}

export function formatClock(totalSeconds: number): string {
  const seconds = Math.round(totalSeconds);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** How long an incident lasted, as alerts and the status page say it: 45s, 12m, 3h05m. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60
    ? `${minutes}m`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '0 s';
  if (seconds < 60) return `${formatDecimal(Number(seconds.toPrecision(3)))} s`;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return [hours ? `${hours} h` : '', minutes ? `${minutes} min` : '', rest ? `${rest} s` : '']
    .filter(Boolean)
    .join(' ');
}

export function formatTimestamp(iso: string | null): string {
  if (iso === null) return 'not started';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function percentOf(part: number, whole: number): string {
  return whole > 0 ? `${formatDecimal(Number(((part / whole) * 100).toPrecision(3)))}%` : '–';
}
