// A reference point for bundle size: the bare handler wrapped in @middy/core and nothing else.

import middy from '@middy/core';
import { handler as bareHandler } from './bare-handler.ts';

export const handler = middy(bareHandler);
