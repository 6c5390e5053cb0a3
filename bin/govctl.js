#!/usr/bin/env node
import { run } from '../dist/cli/main.js';

// exitCode, not process.exit(): piped output must be flushed before the process ends.
process.exitCode = await run(process.argv);
