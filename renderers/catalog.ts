/**
 * The catalog page's files for the proxy: the static page from templates/catalog/ and its config.json.
 * Pure: no Pulumi; the files are read once from the package.
 */
import { CATALOG_ROOT } from "./nginx-conf";
import { templateText } from "./template";

/** The page's static files, in templates/catalog/. */
export const CATALOG_FILES = ["index.html", "catalog.css", "catalog.js"] as const;

/** Where each of catalogFiles() goes in the proxy container, in the same order. */
export const CATALOG_UPLOAD_PATHS = [...CATALOG_FILES, "config.json"].map((f) => `${CATALOG_ROOT}/${f}`);

export interface CatalogConfigInput {
    /** `host[:port]` in the page's `docker pull` commands. Required. */
    pullHost: string;
    /** Show delete buttons. Required. */
    deleteEnabled: boolean;
    /** Base URL of the Registry API; "" for the page's own origin. Default: "". */
    registry?: string;
}

/** config.json, which the page reads at start. */
export function renderCatalogConfig(input: CatalogConfigInput): string {
    if (!/^[A-Za-z0-9.\-[\]:]+$/.test(input.pullHost)) throw new Error(`catalog: pullHost ${JSON.stringify(input.pullHost)} is not host[:port]`);
    return JSON.stringify({ registry: input.registry ?? "", pullHost: input.pullHost, delete: input.deleteEnabled }, null, 2) + "\n";
}

/** Every file of the page with its path in the proxy container (config.json last). */
export function catalogFiles(config: CatalogConfigInput): { file: string; content: string }[] {
    return [
        ...CATALOG_FILES.map((f, i) => ({ file: CATALOG_UPLOAD_PATHS[i], content: templateText(`catalog/${f}`) })),
        { file: CATALOG_UPLOAD_PATHS[CATALOG_FILES.length], content: renderCatalogConfig(config) },
    ];
}
