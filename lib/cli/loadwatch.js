#!/usr/bin/env node
// The loadwatch command. Node 22 runs the TypeScript sources directly (type stripping).
import { main } from './main.ts';

main();
