import { builder } from './builder.ts';
import './scalars.ts';
import './enums.ts';
import './training-job.ts';
import './training-curve.ts';
import './model-version.ts';
import './system-status.ts';
import './classification.ts';
import './dataset.ts';
import './ocr.ts';
import './subscriptions.ts';
import './viewer.ts';

builder.queryType({ description: 'Reading needs the viewer or admin role.' });
builder.mutationType({ description: 'Changing anything needs the admin role.' });
builder.subscriptionType({
  description:
    'Live updates over SSE (`/graphql/stream`, graphql-sse); needs the viewer or admin role.',
});

export const schema = builder.toSchema();
