import type { ServerResponse } from 'node:http';
import type { RequestAuth } from '../auth/request-auth.ts';
import type { Limits } from '../config.ts';
import type { DatasetService } from '../dataset/service.ts';
import type { OcrService } from '../ocr/service.ts';
import type { TrainingService } from '../training/service.ts';
import type { Loaders } from './loaders.ts';

/** What every resolver gets: who is asking, and the domain services. */
export type GraphQLContext = {
  /** The HTTP request; its signal aborts when the client goes away before the response ended. */
  request: Request;
  /** The Node response, when node:http serves the request (not with `yoga.fetch`). */
  res?: ServerResponse;
  auth: RequestAuth;
  training: TrainingService;
  dataset: DatasetService;
  ocr: OcrService;
  loaders: Loaders;
  limits: Limits;
};
