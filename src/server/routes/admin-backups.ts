import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { BackupInvalidError, PreRestoreBackupError } from '../backups.js';
import { HttpError, ServerErrors } from '../errors.js';
import type { RouteContext } from './context.js';

type IdParams = { Params: { id: string } };

export function adminBackupRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { backups } = ctx;
  const notFound = (id: string) => ServerErrors.notFound(`Backup ${id} not found`);

  app.post<{ Querystring: { compress?: string } }>('/audit/backup', async (request, reply) => {
    const compress = request.query.compress;
    if (compress !== undefined && compress !== 'true' && compress !== 'false') {
      throw ServerErrors.validation([{ loc: ['query', 'compress'], msg: 'Input should be true or false', type: 'bool_parsing' }]);
    }
    const info = await backups.create(compress !== 'false');
    reply.code(201);
    return info;
  });

  app.get('/audit/backups', async () => ({ backups: await backups.list() }));

  app.get<IdParams>('/audit/backups/:id', async (request, reply) => {
    const info = await backups.get(request.params.id);
    if (!info) throw notFound(request.params.id);
    reply
      .header('X-Checksum-Sha256', info.sha256)
      .header('Content-Disposition', `attachment; filename="${info.backup_file}"`)
      .type(info.compressed ? 'application/gzip' : 'application/vnd.sqlite3');
    return reply.send(createReadStream(backups.filePath(info)));
  });

  app.post<IdParams>('/audit/backups/:id/verify', async (request) => {
    const result = await backups.verify(request.params.id);
    if (!result) throw notFound(request.params.id);
    return result;
  });

  app.post<IdParams>('/audit/backups/:id/restore', async (request) => {
    try {
      const result = await backups.restore(request.params.id);
      if (!result) throw notFound(request.params.id);
      return result;
    } catch (err) {
      if (err instanceof BackupInvalidError) throw new HttpError(422, err.message, 'backup_invalid');
      if (err instanceof PreRestoreBackupError) {
        // The cause (with its path) goes to the server log only.
        request.log.error({ err: err.cause }, err.message);
        throw ServerErrors.preRestoreBackupFailed(err.diskFull);
      }
      throw err;
    }
  });

  // An extension to the contract: what a restore would change, changing nothing. A route of its
  // own, not a flag on /restore: a server without it answers 404 instead of restoring for real.
  app.get<IdParams>('/audit/backups/:id/restore-preview', async (request) => {
    try {
      const result = await backups.preview(request.params.id);
      if (!result) throw notFound(request.params.id);
      return result;
    } catch (err) {
      if (err instanceof BackupInvalidError) throw new HttpError(422, err.message, 'backup_invalid');
      throw err;
    }
  });

  app.delete<IdParams>('/audit/backups/:id', async (request) => {
    if (!(await backups.delete(request.params.id))) throw notFound(request.params.id);
    return { status: 'deleted', id: request.params.id };
  });
}
