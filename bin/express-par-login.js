#!/usr/bin/env node
// The installed command: `npx express-par-login doctor`. It runs the compiled CLI from dist/.
import { runCli } from '../dist/doctor/cli.js';

process.exitCode = await runCli(process.argv.slice(2));
