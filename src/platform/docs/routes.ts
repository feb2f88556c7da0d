import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import { NotFoundError } from '../errors/app-error';
import type { AppState } from '../context/state';
import { routeCsp } from '../security/headers';
import * as contract from './contract';
import { route } from '../api/route';

/*
 * The reference page is Swagger UI from the pinned swagger-ui-dist package, served by this service
 * (no CDN). Its CSP replaces the API's `default-src 'none'` on /docs and its assets only:
 * - script-src 'self': the bundle and our init script are files; no inline script, no eval.
 * - style-src 'self' 'unsafe-inline': Swagger UI (React) writes style attributes and injects
 *   small <style> blocks; styles cannot run code, so this is the one relaxation.
 * - img-src 'self' data:: its icons are data: SVGs inside the stylesheet.
 * - connect-src 'self': it fetches /openapi.json and, with "Try it out", calls this API.
 */
const DOCS_CSP = routeCsp({
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
});

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Caly API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

const INIT = `"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  tryItOutEnabled: false,
  validatorUrl: null
});
`;

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dist = dirname(require.resolve('swagger-ui-dist/package.json'));
  const file = (name: string, type: string) => [name, { type, body: readFileSync(join(dist, name)) }] as const;
  return new Map([
    file('swagger-ui.css', 'text/css; charset=utf-8'),
    file('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
    file('favicon-32x32.png', 'image/png'),
    ['init.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(INIT) }],
  ]);
}

/** GET /openapi.json, /openapi.yaml, /docs and /docs/assets/*: the document and its reference page. */
export function registerDocsRoutes(router: Router<AppState>, document: Record<string, unknown>): void {
  const jsonText = JSON.stringify(document);
  // Made on first request, from the JSON text so that both say the same: the yaml package is ~9 MB
  // of resident code that only this route uses (bench/README.md, "Fourth round").
  let yamlText: string | undefined;
  const yaml = (): string => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    yamlText ??= (require('yaml') as typeof import('yaml')).stringify(JSON.parse(jsonText));
    return yamlText;
  };
  const assets = loadAssets();

  route(router, contract.openApiJsonRoute, (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'application/json';
    ctx.body = jsonText;
  });
  route(router, contract.openApiYamlRoute, (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'application/yaml';
    ctx.body = yaml();
  });
  route(router, contract.docsPageRoute, DOCS_CSP, (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });
  route(router, contract.docsAssetRoute, DOCS_CSP, (ctx) => {
    const asset = assets.get(ctx.params.file ?? '');
    if (!asset) throw new NotFoundError('Asset');
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = asset.type;
    ctx.body = asset.body;
  });
}
