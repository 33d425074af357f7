/**
 * How `make start` shows the services' log lines: pretty (pino-pretty, one line per entry) when
 * its output is a terminal, the JSON lines as they are otherwise; LOG_FORMAT=json|pretty decides
 * instead. The services themselves always write JSON.
 */
import { prettyFactory } from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export function lineFormatter(format: LogFormat, colorize: boolean): (line: string) => string {
  if (format === 'json') return (line) => line;
  const pretty = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  // A line that is not a pino JSON line (a stack trace on stderr) stays as it is.
  return (line) => (line.startsWith('{') ? pretty(line).trimEnd() : line);
}
