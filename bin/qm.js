#!/usr/bin/env node
// The `qm` launcher: runs the TypeScript CLI through tsx, so `npx qm` works with no build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../server/cli.ts')
await main()
