import { declare } from '../api/declaration';

const TAG = 'API reference';

export const openApiJsonRoute = declare({
  method: 'GET',
  path: '/openapi.json',
  tag: TAG,
  summary: 'This document (OpenAPI 3.1, JSON)',
  security: [],
  limiters: [],
  responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'] } } } } },
  errors: [],
});

export const openApiYamlRoute = declare({
  method: 'GET',
  path: '/openapi.yaml',
  tag: TAG,
  summary: 'This document (OpenAPI 3.1, YAML)',
  security: [],
  limiters: [],
  responses: { 200: { description: 'The OpenAPI document', content: { 'application/yaml': { schema: { type: 'string' } } } } },
  errors: [],
});

export const docsPageRoute = declare({
  method: 'GET',
  path: '/docs',
  tag: TAG,
  summary: 'Interactive reference (Swagger UI, served from this service)',
  security: [],
  limiters: [],
  responses: { 200: { description: 'The reference page', content: { 'text/html': { schema: { type: 'string' } } } } },
  errors: [],
});

export const docsAssetRoute = declare({
  method: 'GET',
  path: '/docs/assets/:file',
  tag: TAG,
  summary: "The reference page's scripts and styles",
  security: [],
  limiters: [],
  params: {
    type: 'object',
    required: ['file'],
    properties: { file: { type: 'string', enum: ['swagger-ui.css', 'swagger-ui-bundle.js', 'init.js', 'favicon-32x32.png'] } },
  },
  responses: {
    200: {
      description: 'The asset',
      content: { 'text/css': { schema: { type: 'string' } }, 'text/javascript': { schema: { type: 'string' } }, 'image/png': { schema: { type: 'string' } } },
    },
  },
  errors: ['NOT_FOUND'],
});

export const DOCS_ROUTES = [openApiJsonRoute, openApiYamlRoute, docsPageRoute, docsAssetRoute];
