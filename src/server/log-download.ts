import type { Request, RequestHandler, Response } from 'express';
import { BuildgateError, ErrorCode } from '../errors.js';
import { fromGlobalId } from '../ids.js';
import type { ProviderRegistry } from '../providers/registry.js';

import { LOG_DOWNLOAD_PATH } from '../schema/run/run.type.js';

export { LOG_DOWNLOAD_PATH };

const PAGE = 5000;

/**
 * GET /logs/<runId>.txt streams a run's whole stored log as plain text, page by page so a
 * million-line log never sits in memory. `?step=<StepRun ID>` keeps one step's lines.
 */
export function logDownload(registry: ProviderRegistry): RequestHandler {
  return async (req: Request, res: Response) => {
    const fail = (status: number, code: string, message: string) => {
      if (!res.headersSent) res.status(status).json({ errors: [{ message, extensions: { code } }] });
      else res.end();
    };
    try {
      const raw = String(req.params.file ?? '').replace(/\.txt$/, '');
      const gid = fromGlobalId(raw, 'BuildRun');
      const stepRunKey = typeof req.query.step === 'string' ? fromGlobalId(req.query.step, 'StepRun').key : null;
      const getLogs = registry.method(gid.providerId, 'getLogs', 'LOGS');
      const getRun = registry.method(gid.providerId, 'getRun', 'RUN_GET');
      if (!(await getRun(gid.key))) { fail(404, ErrorCode.NOT_FOUND, `BuildRun ${raw} does not exist`); return; }
      res.status(200).type('text/plain; charset=utf-8').setHeader('content-disposition', `attachment; filename="run-${gid.key.replace(/[^\w.-]/g, '_')}.log"`);
      let after = 0;
      let first = true;
      for (;;) {
        const page = await getLogs(gid.key, { stepRunKey, afterSeq: after, limit: PAGE });
        if (page.lines.length) {
          // Pieces of a long line (continued) join the line they continue: each line ends with \n once whole.
          let chunk = '';
          for (const l of page.lines) {
            chunk += (l.continued || first ? '' : '\n') + l.text;
            first = false;
          }
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
          after = page.lines[page.lines.length - 1]!.seq;
        }
        if (!page.hasMore || page.lines.length === 0) break;
      }
      res.end(first ? '' : '\n');
    } catch (e) {
      if (e instanceof BuildgateError) fail(e.code === ErrorCode.BAD_USER_INPUT ? 400 : e.code === ErrorCode.NOT_FOUND ? 404 : 502, e.code, e.message);
      else fail(500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
    }
  };
}
