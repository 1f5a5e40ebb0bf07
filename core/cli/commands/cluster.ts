/**
 * `looktwice cluster` — groups the library by visual similarity and stores the result (and the
 * 2-D map, unless --no-map) for the app.
 * --json: {"clusters":[{"id","size","representatives","members"}]}.
 */
import { computeClusters, computeMap } from '../../app/curation.ts';
import { PARAMS } from '../../app/schemas.ts';
import { openLibrary } from '../../store/db.ts';
import { COMMON_OPTIONS, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const usage = `usage: looktwice cluster [--k auto|N] [--method kmeans|density] [--no-map] [--db PATH] [--json]

Clusters the library on the trained model's embeddings (or on pixel layout and colour when
there is no model yet). k-means++ by default, with k chosen automatically as the one with the
best silhouette on a sample; --method density finds dense groups of any number and puts
stragglers in an "unclustered" bucket (id -1). Each cluster lists representatives (closest to
its centre). Also computes the 2-D map the app shows (UMAP) unless --no-map.

  --k auto|N          number of clusters for k-means (default auto)
  --method M          kmeans (default) or density
  --no-map            skip the 2-D map
  --json              {"clusters":[{"id","size","representatives","members"}]} on stdout`;

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'group photos by similarity (k-means or density) and compute the 2-D map',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, { ...COMMON_OPTIONS, k: { type: 'string' }, method: { type: 'string' }, 'no-map': { type: 'boolean', default: false } }, false);
    const options = optionsOnto(PARAMS.computeClusters, values, { k: 'k', method: 'method' });
    if (options.method === 'density' && options.k !== 'auto') throw new UsageError('--k applies to k-means only');
    const library = openLibrary(resolveDbPath(values.db, io.env));
    const bar = new ProgressBar(io.stderr);
    try {
      const result = await computeClusters(library, options, { signal: io.signal, onProgress: bar.update });
      if (!values['no-map']) await computeMap(library, {}, { signal: io.signal, onProgress: bar.update });
      bar.done();
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ clusters: result.clusters.map((c) => ({ id: c.id, size: c.size, representatives: c.representatives, members: c.members })) })}\n`);
      } else {
        io.stdout.write(`${result.clusters.filter((c) => c.id >= 0).length} cluster(s) on ${result.source === 'pixels' ? (result.note ?? 'pixel layout and colour (no trained model yet)') : result.source}; k: ${result.how}\n`);
        for (const c of result.clusters) {
          io.stdout.write(`${c.id < 0 ? 'unclustered' : `cluster ${c.id}`}: ${c.size} photo(s)\n`);
          for (const r of c.representatives) io.stdout.write(`  ${r}\n`);
        }
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
