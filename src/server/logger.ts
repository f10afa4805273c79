import pino, { type Logger } from 'pino';
import { traceFields } from '../tracing/index.js';

/**
 * Structured JSON logs, with the trace id of the current span when tracing. Credential-bearing fields are redacted by path wherever they
 * appear; values known to be secret are additionally masked in free text by `maskSecrets`.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'buildgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The current span's traceId and spanId on every line logged inside it (nothing while tracing is off).
    mixin: traceFields,
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-auth-token"]', 'req.headers["x-api-key"]',
        '*.password', '*.token', '*.secret', '*.authorization', 'connectionParams', '*.connectionParams',
        'variables.*.password', 'variables.input.buildServerClientKey', 'variables.input.buildServerClientCert',
        // API keys and JWTs, wherever a log call might carry them.
        '*.webhook.secret', 'webhook.secret',
        'authorization', 'headers.authorization', '*.headers.authorization', 'password', 'token', 'secret', 'apiKey', '*.apiKey', 'credential', '*.credential',
      ],
      censor: '***',
    },
  }, destination);
}

export { maskSecrets } from '../secrets/mask.js';
