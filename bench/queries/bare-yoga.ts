import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

/** The ceiling of this stack: yoga answering the status query from a constant in memory. */
const status = {
  isTraining: false,
  activeJob: null,
  totalJobs: 20,
  completedJobs: 0,
  failedJobs: 0,
  queuedJobs: 20,
  modelVersions: 0,
  activeModels: 0,
};

const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: `
      type Job { id: ID! name: String! }
      type TrainingSystemStatus {
        isTraining: Boolean! activeJob: Job totalJobs: Int! completedJobs: Int! failedJobs: Int!
        queuedJobs: Int! modelVersions: Int! activeModels: Int!
      }
      type Query { trainingStatus: TrainingSystemStatus! }
    `,
    resolvers: { Query: { trainingStatus: () => status } },
  }),
});

const port = Number(process.env.PORT ?? 4100);
createServer(yoga).listen(port, '127.0.0.1', () => console.log(`ready ${port}`));
