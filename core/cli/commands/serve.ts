/**
 * `looktwice serve` — browser mode: serves the app for one library on http://127.0.0.1 with a
 * per-run access token in the printed URL. Runs until Ctrl-C; running jobs stop at a safe point.
 */
import type { Command } from '../command.ts';
import { COMMON_OPTIONS, parse, positiveInt, resolveDbPath } from '../args.ts';
import { serveLibrary } from '../../api/serve.ts';

const usage = `usage: looktwice serve [--db PATH] [--port N] [--host 127.0.0.1] [--json]

Serves the Looktwice app in your browser. Open the printed address: it contains a one-time
access token, so other programs and web pages on this machine cannot use the app.

  --db PATH     library database (default: library.db in the user data folder)
  --port N      port to listen on (default: a free one)
  --host ADDR   address to bind (default 127.0.0.1; anything else exposes the library on your network)
  --json        print {"url":…,"port":…} as one JSON line once listening`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'open the app in your browser (browser mode)',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, port: { type: 'string' }, host: { type: 'string' } }, false);
    const dbPath = resolveDbPath(values.db, io.env);
    const port = values.port === undefined ? 0 : positiveInt('port', values.port, 0);
    const host = values.host ?? '127.0.0.1';
    const serving = await serveLibrary({ dbPath, host, port, log: (line) => io.stderr.write(`${line}\n`) });
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
      io.stderr.write(`warning: listening on ${host}: anyone on your network who has the address with its token can use this library\n`);
    }
    if (values.json) io.stdout.write(`${JSON.stringify({ url: serving.server.url, port: serving.server.port, db: dbPath })}\n`);
    else io.stdout.write(`Looktwice is serving ${dbPath}\nOpen ${serving.server.url}\n(Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stderr.write('stopping…\n');
    await serving.close();
    return 0;
  },
};
