/**
 * Reusable test helpers for every area (real SQLite, real sharp — never mocks):
 * - tempLibrary(): a temp folder with an open, migrated library and an empty photos/ folder
 * - ingestFolder(temp, folders?, options?): the real ingest of temp.photosDir (or folders)
 * - normalisedDump(library) / normalisedDumpOf(file): id-free sorted rows of the catalogue, to compare two libraries
 * - runCli(args, {env, uid, onSpawn}): the real CLI in a child process → {code, signal, stdout, stderr}
 * - writeImage(path, {width, height, pattern, seed, ...}): a real, deterministic image file
 * - renderPixels / encodeImage / seededRandom: the same pixels without touching the disk
 * - servedLibrary(prefix, images): those images ingested by the real service, served over real HTTP
 */
export { tempLibrary, ingestFolder, normalisedDump, normalisedDumpOf, type TempLibrary } from './library.ts';
export { runCli, REPO_ROOT, CLI_ENTRY, ROOT_WITHOUT_PERMISSION_BYPASS, type CliResult, type RunCliOptions } from './cli.ts';
export { writeImage, encodeImage, renderPixels, seededRandom, type WriteImageOptions, type ImageFormat, type ImagePattern } from './images.ts';
export { servedLibrary, type ServedLibrary } from './served-library.ts';
