/**
 * `npm run build:server`: the server as plain JavaScript, so that `npm start` runs it with plain
 * `node` and carries no TypeScript loader. tsx (its loader, its esbuild service and the source maps
 * of every module) cost the running server about 35 MB of resident memory, a third of it at idle
 * (docs/OPERATIONS.md, "Memory").
 *
 * server/main.ts is bundled by esbuild into dist/server-bundle/main.js: our own code (server/ and
 * sync/) in one file, every package left to `node_modules` as it is under tsx, and the modules
 * main.ts loads only when configured (Postgres, Redis) in chunks of their own, loaded only then.
 * The build takes well under a second. `--if-needed` (npm start) skips it when the bundle is newer
 * than every source file it is made from.
 *
 * esbuild comes with tsx (a dependency), so it is taken from there.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
/** Where `npm start` and the benchmark run the server from. */
export const SERVER_BUNDLE_DIR = join(root, 'dist', 'server-bundle')
export const SERVER_ENTRY = join(SERVER_BUNDLE_DIR, 'main.js')
const STAMP = 'build.json'
/** Everything the bundle is made from. Packages are not bundled, so package.json is not here. */
const SOURCES = ['server', 'sync', 'tsconfig.json']

/** The newest modification time among the server's sources (tests aside). */
const newestSource = (): number => {
  let newest = 0
  const walk = (path: string): void => {
    const s = statSync(path)
    if (s.isDirectory()) {
      for (const name of readdirSync(path)) if (name !== 'node_modules' && name !== 'dist') walk(join(path, name))
    } else if (!/\.test\.tsx?$/.test(path)) {
      newest = Math.max(newest, s.mtimeMs)
    }
  }
  for (const s of SOURCES) if (existsSync(join(root, s))) walk(join(root, s))
  return newest
}

const upToDate = (outDir: string): boolean => {
  const stampFile = join(outDir, STAMP)
  if (!existsSync(stampFile) || !existsSync(join(outDir, 'main.js'))) return false
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { sourcesAt?: unknown }
  return typeof stamp.sourcesAt === 'number' && stamp.sourcesAt >= newestSource()
}

export interface ServerBuild {
  readonly outDir: string
  readonly entry: string
  /** false when `ifNeeded` found the bundle up to date */
  readonly built: boolean
  readonly ms: number
}

/**
 * Bundles server/main.ts into `outDir` (default dist/server-bundle). The bundle resolves packages
 * from the repository's node_modules, so `outDir` must lie inside the repository.
 */
export const buildServer = async (options: { readonly ifNeeded?: boolean; readonly outDir?: string } = {}): Promise<ServerBuild> => {
  const outDir = options.outDir ?? SERVER_BUNDLE_DIR
  const entry = join(outDir, 'main.js')
  const started = Date.now()
  if (options.ifNeeded && upToDate(outDir)) return { outDir, entry, built: false, ms: 0 }
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))
  const esbuild = fromTsx('esbuild') as typeof import('esbuild')
  // Taken before reading the sources: a file changed during the build is rebuilt next time.
  const sourcesAt = newestSource()
  // Built beside, then put in place whole: a server starting meanwhile never sees half a bundle.
  mkdirSync(join(outDir, '..'), { recursive: true })
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`
  try {
    await esbuild.build({
      entryPoints: { main: join(root, 'server', 'main.ts') },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      // Class and function names as in the sources (error names in logs, inspect output).
      keepNames: true,
      // Written beside the bundle, not loaded: `node --enable-source-maps` maps stack traces to the
      // TypeScript sources, at some memory (docs/OPERATIONS.md, "Memory").
      sourcemap: 'linked',
      chunkNames: 'chunks/[name]-[hash]',
      logLevel: 'warning',
    })
    writeFileSync(join(tmp, STAMP), JSON.stringify({ builtAt: Date.now(), sourcesAt }, null, 2) + '\n')
    const old = `${outDir}.old-${process.pid}-${Date.now()}`
    if (existsSync(outDir)) renameSync(outDir, old)
    try {
      renameSync(tmp, outDir)
    } catch (err) {
      // Another build (a second `npm start`) put its bundle in place first: same sources, keep it.
      if (!existsSync(entry)) throw err
    }
    rmSync(old, { recursive: true, force: true })
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return { outDir, entry, built: true, ms: Date.now() - started }
}

const main = async (): Promise<void> => {
  const result = await buildServer({ ifNeeded: process.argv.includes('--if-needed') })
  const where = relative(root, result.outDir)
  console.log(result.built ? `server: built ${where} in ${(result.ms / 1000).toFixed(1)} s` : `server: ${where} is up to date`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error('server build failed:', err)
    process.exit(1)
  })
}
